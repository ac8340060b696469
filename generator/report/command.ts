/** `m3vit-gen report <project-folder> [--json]`. */
import * as path from 'path';
import { collectReport, formatReport } from './report';

export function reportCommand(folder: string, json: boolean): string {
  const data = collectReport(path.resolve(folder), folder);
  return json ? JSON.stringify(data, null, 2) : formatReport(data);
}
