// Query parameters as upstream's parameter codec decodes them into the options a request carries.

/**
 * A boolean query parameter as upstream's parameter codec reads the options it decodes
 * (ListOptions, PodLogOptions, PodExecOptions…: Convert_Slice_string_To_bool): "0" and "false"
 * in any case are false, any other value, "" included, is true; undefined when absent.
 */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === "0" || v.toLowerCase() === "false");
}
