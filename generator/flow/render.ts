/**
 * Rendering of the flow's templates (templates/tcl, templates/make, templates/host).
 * Strict handlebars: a field missing from the view-model is an error, not an empty word in
 * a Tcl command; no HTML escaping (these are scripts).
 */
import * as fs from 'fs';
import Handlebars from 'handlebars';
import { packageFile } from '../util/package';

const env = Handlebars.create();
const cache = new Map<string, HandlebarsTemplateDelegate>();

export function renderFlowTemplate(rel: string, view: object): string {
  let t = cache.get(rel);
  if (!t) {
    t = env.compile(fs.readFileSync(packageFile(`templates/${rel}`), 'utf8'), { noEscape: true, strict: true });
    cache.set(rel, t);
  }
  return t(view);
}

/** A file shipped as it is (scripts with no per-project content). */
export function flowVerbatim(rel: string): string {
  return fs.readFileSync(packageFile(`templates/${rel}`), 'utf8');
}
