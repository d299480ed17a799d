/** Every SPL search of a Splunk Dashboard Studio view (the `ds.search` queries of its definition). */
export function viewSearches(xml: string): string[] {
  const json = /<definition><!\[CDATA\[([\s\S]*)\]\]><\/definition>/.exec(xml)?.[1];
  if (json === undefined) throw new Error('not a Dashboard Studio view: no definition');
  const def = JSON.parse(json) as {
    dataSources: Record<string, { type: string; options: { query: string } }>;
  };
  return Object.values(def.dataSources)
    .filter((ds) => ds.type === 'ds.search')
    .map((ds) => ds.options.query);
}
