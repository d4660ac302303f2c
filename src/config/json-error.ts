/**
 * A JSON.parse error of a config file as an error may show it: what is wrong and on which line,
 * never the text around it, which V8 quotes (`Unexpected token 's', ..."inToken": supersecre"...
 * is not valid JSON`) and which may hold the admin token or a Redis password.
 */
export function describeJsonError(text: string, message: string): string {
  const position = / at position (\d+)$/.exec(message);
  if (position !== null) return `${message.slice(0, position.index).replace(/ in JSON$/, '')} at ${lineAndColumn(text, Number(position[1]))}`;
  const quoted = /^(.*?)(?: '.*?')?, (\.\.\.)?"(.*)"(\.\.\.)? is not valid JSON$/s.exec(message);
  if (quoted === null) return message === 'Unexpected end of JSON input' ? message : 'not valid JSON';
  // The quoted text is the source around the fault, cut about ten characters before it (a leading
  // "...") or after it (a trailing one), or whole.
  const snippet = quoted[3]!;
  const at = text.indexOf(snippet);
  if (at < 0) return quoted[1]!;
  const fault = quoted[2] !== undefined ? at + 10 : quoted[4] !== undefined ? at + Math.max(0, snippet.length - 10) : at;
  return `${quoted[1]} near ${lineAndColumn(text, fault)}`;
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return `line ${line}, column ${position - before.lastIndexOf('\n')}`;
}
