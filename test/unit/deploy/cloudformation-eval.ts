/** Marks a value CloudFormation leaves out (AWS::NoValue). */
export const NO_VALUE = Symbol('AWS::NoValue');

/** A parsed template: untyped JSON. */
type Json = any;

/**
 * Enough of CloudFormation's intrinsic functions (Ref, Fn::If, Fn::Sub, Fn::Join,
 * Fn::Equals/Not/And/Or, conditions; list parameters) to evaluate what a template gives a function or task
 * for given parameters: parameters take their defaults unless overridden, a resource's Ref is a physical
 * name as CloudFormation makes them.
 */
export function evaluateTemplate(template: Json, overrides: Record<string, string> = {}) {
  const params: Record<string, string> = {
    'AWS::StackName': 'asc',
    'AWS::Partition': 'aws',
    'AWS::Region': 'eu-west-1',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::AccountId': '111122223333',
  };
  const lists = new Set<string>();
  for (const [name, p] of Object.entries((template.Parameters ?? {}) as Record<string, Json>)) {
    params[name] = overrides[name] ?? String(p.Default ?? '');
    if (p.Type === 'CommaDelimitedList' || String(p.Type).startsWith('List<')) lists.add(name);
  }
  const condition = (name: string): boolean => truth(template.Conditions[name]);
  const truth = (c: Json): boolean => {
    if ('Condition' in c) return condition(c.Condition);
    if ('Fn::Equals' in c) return value(c['Fn::Equals'][0]) === value(c['Fn::Equals'][1]);
    if ('Fn::Not' in c) return !truth(c['Fn::Not'][0]);
    if ('Fn::And' in c) return c['Fn::And'].every(truth);
    if ('Fn::Or' in c) return c['Fn::Or'].some(truth);
    throw new Error(`condition ${JSON.stringify(c)}`);
  };
  const value = (v: Json): Json => {
    if (typeof v !== 'object' || v === null) return v;
    if (v.Ref === 'AWS::NoValue') return NO_VALUE;
    if ('Ref' in v && lists.has(v.Ref)) return params[v.Ref]!.split(',');
    if ('Ref' in v) return v.Ref in params ? params[v.Ref] : `asc-${v.Ref.toLowerCase()}-1a2b3c4d`;
    if ('Fn::Join' in v) {
      const [separator, parts] = v['Fn::Join'];
      return (value(parts) as string[]).join(separator);
    }
    if ('Fn::If' in v) return value(condition(v['Fn::If'][0]) ? v['Fn::If'][1] : v['Fn::If'][2]);
    if ('Fn::Sub' in v) {
      const [text, vars] = Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'] : [v['Fn::Sub'], {}];
      return (text as string).replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        name in vars ? value(vars[name]) : String(value({ Ref: name })),
      );
    }
    if (Array.isArray(v)) return v.map(value);
    if (Object.keys(v).some((k) => k.startsWith('Fn::'))) throw new Error(`value ${JSON.stringify(v)}`);
    // A property map (an environment entry, a VpcConfig): its values evaluated.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
  };
  return { condition, value };
}
