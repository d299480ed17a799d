/** Whether an object has any own enumerable key, without building the list of them (once per record). */
export function hasKeys(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}
