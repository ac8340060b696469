/**
 * Free text from the config (the board's display name) inside generated Tcl. Identifiers
 * (project, part, board part, task and model names) are restricted by the schema and the
 * model validation to alphabets that need no quoting; display text is escaped here.
 */

/** Text for the inside of a Tcl double-quoted word: every character Tcl substitutes or
 * counts ([ ] $ " \ { }) backslash-escaped, so the word reads back as `text` whether it
 * stands alone or inside a braced script body (escaped braces are not counted there). */
export function tclInQuotes(text: string): string {
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new Error(`control character in Tcl text ${JSON.stringify(text)}`);
  return text.replace(/[[\]$"\\{}]/g, (c) => `\\${c}`);
}

/** `text` as one Tcl word. */
export function tclQuoted(text: string): string {
  return `"${tclInQuotes(text)}"`;
}

/** A glob pattern (Tcl `string match` syntax) matching `text` literally. */
export function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
