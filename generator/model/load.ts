/**
 * Loads a model description (models/*.ts) with ts-morph: type-check it against the
 * package's ModelSpec, then evaluate its default export statically. The file is never
 * executed: generation stays deterministic and a model file cannot do I/O. What the static
 * evaluator supports is what a declarative description needs (literals, arithmetic, const
 * references, spreads, property access, defineModel); anything else is reported with its
 * position.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Node, Project, SyntaxKind, ts, type Diagnostic, type Expression, type SourceFile } from 'ts-morph';
import { UserError } from '../util/errors';
import { readUserText } from '../util/read-file';
import { packageFile } from '../util/package';
import type { ModelSpec } from './spec';
import { PositionTree, type SourcePosition } from './positions';
import { validateModelSpec } from './validate';

export type { SourcePosition };

/** A loaded model: the spec plus where each field was written, for messages. */
export interface LoadedModel {
  spec: ModelSpec;
  file: string;
  /** JSON-pointer-like field path ("/moe/topK") -> position of its value. */
  positions: Map<string, SourcePosition>;
}

/** The module that `import ... from "m3vit-gen"` resolves to while checking a model file. */
function specModulePath(): string {
  const fromSource = packageFile('generator/model/spec.ts');
  if (fs.existsSync(fromSource)) return fromSource;
  return packageFile('dist/generator/model/spec.d.ts');
}

export function loadModel(modelFile: string, displayName = modelFile): LoadedModel {
  const text = readUserText(modelFile, 'model', displayName);
  const project = new Project({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts'],
      types: [],
      skipLibCheck: true,
      paths: { 'm3vit-gen': [specModulePath()] },
    },
    skipAddingFilesFromTsConfig: true,
  });
  // From the text read above (a regular file of bounded size), not read again by ts-morph.
  const sf = project.createSourceFile(path.resolve(modelFile), text, { overwrite: true });
  project.resolveSourceFileDependencies();

  // Every file the description pulls in is checked (a const imported from a file with a
  // type error would otherwise be evaluated as if it were fine).
  const fileName = fileNamer(sf, displayName);
  const syntax = project.getProgram().getSyntacticDiagnostics().filter((d) => d.getCategory() === ts.DiagnosticCategory.Error);
  if (syntax.length > 0) {
    throw new UserError(displayName, syntax.map((d) => formatDiagnostic(d, fileName)), `syntax errors in the model description (${syntax.length})`);
  }
  // Before type-checking: tsc would answer `import fs` with advice to install @types/node.
  checkImports(project.getSourceFiles(), fileName, displayName);
  const diagnostics = project.getPreEmitDiagnostics().filter((d) => d.getCategory() === ts.DiagnosticCategory.Error);
  if (diagnostics.length > 0) {
    throw new UserError(
      displayName,
      diagnostics.map((d) => formatDiagnostic(d, fileName)),
      `type errors in the model description (${diagnostics.length})`,
    );
  }

  const evaluator = new StaticEvaluator(displayName, fileName);
  const expr = defaultExportExpression(sf, displayName);
  const value = evaluator.evaluate(expr, '');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const p = positionOf(expr, fileName);
    throw new UserError(displayName, [`${p.file}:${p.line}:${p.col}: the default export must be defineModel({ ... }), an object describing the model; found ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`]);
  }
  const loaded: LoadedModel = { spec: value as ModelSpec, file: displayName, positions: evaluator.positions.toMap() };
  validateModelSpec(loaded);
  return loaded;
}

/** A model may import only defineModel's module ("m3vit-gen") and other model files (relative paths). */
function checkImports(files: SourceFile[], fileName: FileNamer, displayName: string): void {
  const problems: string[] = [];
  for (const f of files) {
    if (f.isDeclarationFile()) continue;
    for (const imp of f.getImportDeclarations()) {
      const from = imp.getModuleSpecifierValue();
      if (from === 'm3vit-gen' || from.startsWith('./') || from.startsWith('../')) continue;
      const p = positionOf(imp, fileName);
      problems.push(`${p.file}:${p.line}:${p.col}: imports from "${from}" are not allowed: a model description is evaluated, never run, and may import only from "m3vit-gen" and other model files (relative paths)`);
    }
  }
  if (problems.length > 0) throw new UserError(displayName, problems);
}

/** How a source file is named in messages: the entry file as the caller named it, other
 * files (imported consts) relative to the working folder when below it, else absolute. */
type FileNamer = (file: SourceFile) => string;

function fileNamer(entry: SourceFile, displayName: string): FileNamer {
  return (file) => {
    if (file === entry) return displayName;
    const abs = file.getFilePath();
    const rel = path.relative(process.cwd(), abs);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  };
}

function formatDiagnostic(d: Diagnostic, fileName: FileNamer): string {
  const text = d.getMessageText();
  const msg = typeof text === 'string' ? text : ts.flattenDiagnosticMessageText(text.compilerObject, ' ');
  const file = d.getSourceFile();
  const start = d.getStart();
  if (file && start !== undefined) {
    const { line, column } = file.getLineAndColumnAtPos(start);
    return `${fileName(file)}:${line}:${column}: ${msg}`;
  }
  return msg;
}

function positionOf(node: Node, fileName: FileNamer): SourcePosition {
  const sf = node.getSourceFile();
  const { line, column } = sf.getLineAndColumnAtPos(node.getStart());
  return { file: fileName(sf), line, col: column };
}

function defaultExportExpression(sf: SourceFile, file: string): Expression {
  for (const stmt of sf.getStatements()) {
    if (Node.isExportAssignment(stmt) && !stmt.isExportEquals()) return stmt.getExpression();
  }
  throw new UserError(file, [
    `${file}:1:1: no default export; write \`export default defineModel({ ... })\` (import { defineModel } from "m3vit-gen")`,
  ]);
}

/**
 * Budgets of the static evaluator. A description takes a few dozen steps (the shipped models 24 to 42) and values of a few
 * dozen elements; the budgets are far above that and stop a description that grows
 * exponentially (a const used twice by the next one, doubled n times) within a second
 * instead of running for hours. Steps count evaluated nodes plus the elements copied.
 */
export const EVALUATION_LIMITS = { steps: 20_000, depth: 500, arrayLength: 10_000, stringLength: 100_000, objectKeys: 10_000 };

/** Evaluates the declarative subset of TypeScript a model description is written in. */
class StaticEvaluator {
  readonly positions = new PositionTree();
  private readonly active = new Set<Node>();
  private scratch = 0;
  private steps = 0;
  private depth = 0;

  constructor(
    private readonly file: string,
    private readonly fileName: FileNamer,
  ) {}

  evaluate(node: Expression, field: string): unknown {
    this.spend(node, 1);
    if (++this.depth > EVALUATION_LIMITS.depth) this.tooLarge(node, `nesting deeper than ${EVALUATION_LIMITS.depth} expressions and const references`);
    try {
      return this.checkSize(node, this.evaluateNode(node, field));
    } finally {
      this.depth--;
    }
  }

  private evaluateNode(node: Expression, field: string): unknown {
    this.positions.set(field, positionOf(node, this.fileName));
    if (Node.isParenthesizedExpression(node) || Node.isAsExpression(node) || Node.isSatisfiesExpression(node) || Node.isNonNullExpression(node) || Node.isTypeAssertion(node)) {
      return this.evaluate(node.getExpression(), field);
    }
    if (Node.isNumericLiteral(node)) return node.getLiteralValue();
    if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
    if (Node.isTrueLiteral(node)) return true;
    if (Node.isFalseLiteral(node)) return false;
    if (Node.isTemplateExpression(node)) {
      let s = node.getHead().getLiteralText();
      for (const span of node.getTemplateSpans()) {
        s += String(this.evaluate(span.getExpression(), field)) + span.getLiteral().getLiteralText();
      }
      return s;
    }
    if (Node.isPrefixUnaryExpression(node)) {
      const v = this.evaluate(node.getOperand(), field);
      const op = node.getOperatorToken();
      if (typeof v === 'number' && op === SyntaxKind.MinusToken) return -v;
      if (typeof v === 'number' && op === SyntaxKind.PlusToken) return v;
      return this.unsupported(node, 'this unary operator');
    }
    if (Node.isBinaryExpression(node)) return this.binary(node, field);
    if (Node.isObjectLiteralExpression(node)) return this.object(node, field);
    if (Node.isArrayLiteralExpression(node)) {
      const out: unknown[] = [];
      for (const el of node.getElements()) {
        if (Node.isSpreadElement(el)) {
          // Evaluated aside, then its elements' positions renumbered to where they land.
          const tmp = this.scratchField();
          const v = this.evaluate(el.getExpression(), tmp);
          if (!Array.isArray(v)) return this.unsupported(el, 'spreading a non-array into an array');
          this.spend(el, v.length);
          this.checkArrayLength(node, out.length + v.length);
          this.positions.moveElements(tmp, field, out.length);
          out.push(...v);
        } else {
          out.push(this.evaluate(el, `${field}/${out.length}`));
        }
      }
      return out;
    }
    if (Node.isIdentifier(node)) return this.identifier(node, field);
    if (Node.isPropertyAccessExpression(node)) {
      // The object is evaluated aside; the field then points at the property's value.
      const tmp = this.scratchField();
      const obj = this.evaluate(node.getExpression(), tmp);
      const name = node.getName();
      const found = obj !== null && typeof obj === 'object' && !Array.isArray(obj) && Object.prototype.hasOwnProperty.call(obj, name);
      if (found) this.positions.move(`${tmp}/${name}`, field);
      this.positions.clear(tmp);
      if (found) return (obj as Record<string, unknown>)[name];
      if (Array.isArray(obj) && name === 'length') return obj.length;
      return this.unsupported(node, `property "${name}" of a value that does not have it`);
    }
    if (Node.isCallExpression(node)) {
      const callee = node.getExpression();
      if (isDefineModel(callee) && node.getArguments().length === 1) {
        return this.evaluate(node.getArguments()[0] as Expression, field);
      }
      return this.unsupported(node, 'function calls (only defineModel(...) is evaluated)');
    }
    return this.unsupported(node, node.getKindName());
  }

  private binary(node: import('ts-morph').BinaryExpression, field: string): unknown {
    const op = node.getOperatorToken().getKind();
    const l = this.evaluate(node.getLeft(), field);
    const r = this.evaluate(node.getRight(), field);
    if (op === SyntaxKind.PlusToken && (typeof l === 'string' || typeof r === 'string')) return String(l) + String(r);
    if (typeof l !== 'number' || typeof r !== 'number') return this.unsupported(node, 'arithmetic on non-numbers');
    switch (op) {
      case SyntaxKind.PlusToken: return l + r;
      case SyntaxKind.MinusToken: return l - r;
      case SyntaxKind.AsteriskToken: return l * r;
      case SyntaxKind.SlashToken: return l / r;
      case SyntaxKind.PercentToken: return l % r;
      case SyntaxKind.AsteriskAsteriskToken: return l ** r;
      default: return this.unsupported(node, `the operator ${node.getOperatorToken().getText()}`);
    }
  }

  private object(node: import('ts-morph').ObjectLiteralExpression, field: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const prop of node.getProperties()) {
      if (Node.isPropertyAssignment(prop)) {
        const nameNode = prop.getNameNode();
        let key: string;
        if (Node.isIdentifier(nameNode) || Node.isStringLiteral(nameNode) || Node.isNumericLiteral(nameNode)) {
          key = Node.isIdentifier(nameNode) ? nameNode.getText() : String(nameNode.getLiteralValue());
        } else {
          return this.unsupported(nameNode, 'computed property names');
        }
        this.positions.clear(`${field}/${key}`);
        out[key] = this.evaluate(prop.getInitializerOrThrow(), `${field}/${key}`);
      } else if (Node.isShorthandPropertyAssignment(prop)) {
        const key = prop.getName();
        this.positions.clear(`${field}/${key}`);
        this.positions.set(`${field}/${key}`, positionOf(prop, this.fileName));
        // `{ tasks }`: the name's own symbol is the property; the value is the variable's.
        out[key] = this.identifier(prop.getNameNode(), `${field}/${key}`, prop.getValueSymbol());
      } else if (Node.isSpreadAssignment(prop)) {
        // Evaluated aside, so that the object's own position stays; each spread key then
        // replaces what an earlier key of the same name recorded.
        const tmp = this.scratchField();
        const v = this.evaluate(prop.getExpression(), tmp);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return this.unsupported(prop, 'spreading a non-object into an object');
        this.spend(prop, Object.keys(v).length);
        for (const key of Object.keys(v)) {
          this.positions.clear(`${field}/${key}`);
          this.positions.move(`${tmp}/${key}`, `${field}/${key}`);
        }
        this.positions.clear(tmp);
        Object.assign(out, v);
      } else {
        return this.unsupported(prop, 'methods and accessors');
      }
    }
    return out;
  }

  /** A name must be a `const` with an initializer (in this file or one it imports). */
  private identifier(node: import('ts-morph').Identifier, field: string, valueSymbol?: import('ts-morph').Symbol): unknown {
    if (node.getText() === 'undefined') return undefined;
    const symbol = valueSymbol ?? node.getSymbol();
    let decl = symbol?.getDeclarations()[0];
    if (decl && Node.isImportSpecifier(decl)) {
      decl = symbol?.getAliasedSymbol()?.getDeclarations()[0] ?? decl;
    }
    if (decl && Node.isVariableDeclaration(decl)) {
      const list = decl.getVariableStatement();
      const init = decl.getInitializer();
      if (list && list.getDeclarationKind() === 'const' && init) {
        if (this.active.has(decl)) return this.unsupported(node, 'a constant that refers to itself');
        this.active.add(decl);
        try {
          // Evaluated under the field it is used for, so that messages about that field
          // point at the value where it was written.
          return this.evaluate(init, field);
        } finally {
          this.active.delete(decl);
        }
      }
      return this.unsupported(node, `"${node.getText()}" is not a const with a value`);
    }
    return this.unsupported(node, `the name "${node.getText()}" (only consts declared with a value can be referenced)`);
  }

  /** A field name no model field can have, for evaluating a value before knowing where it lands. */
  private scratchField(): string {
    // At the top, not below `field`: nested spreads would otherwise build paths as deep as
    // the nesting, and every position operation walks its path.
    return `/#${this.scratch++}`;
  }

  /** Counts `n` steps against the budget. */
  private spend(node: Node, n: number): void {
    this.steps += n;
    if (this.steps > EVALUATION_LIMITS.steps) {
      this.tooLarge(node, `evaluating the description took more than ${EVALUATION_LIMITS.steps} steps; a const is probably used several times by the next one, over and over`);
    }
  }

  /** Refuses a value beyond the size budgets (checked as each value is built). */
  private checkSize<T>(node: Node, v: T): T {
    const L = EVALUATION_LIMITS;
    if (typeof v === 'string' && v.length > L.stringLength) this.tooLarge(node, `a string of ${v.length} characters; at most ${L.stringLength} are allowed`);
    if (Array.isArray(v)) this.checkArrayLength(node, v.length);
    else if (v !== null && typeof v === 'object' && Object.keys(v).length > L.objectKeys) {
      this.tooLarge(node, `an object of ${Object.keys(v).length} properties; at most ${L.objectKeys} are allowed`);
    }
    return v;
  }

  private checkArrayLength(node: Node, n: number): void {
    if (n > EVALUATION_LIMITS.arrayLength) this.tooLarge(node, `an array of ${n} elements; at most ${EVALUATION_LIMITS.arrayLength} are allowed`);
  }

  private tooLarge(node: Node, what: string): never {
    const p = positionOf(node, this.fileName);
    throw new UserError(this.file, [`${p.file}:${p.line}:${p.col}: expression too large (${what})`]);
  }

  private unsupported(node: Node, what: string): never {
    const p = positionOf(node, this.fileName);
    throw new UserError(this.file, [
      `${p.file}:${p.line}:${p.col}: unsupported construct: ${what}. Model descriptions are evaluated without running them: use literals, arithmetic, const references, spreads and defineModel(...).`,
    ]);
  }
}

function isDefineModel(callee: Node): boolean {
  if (!Node.isIdentifier(callee)) return false;
  const symbol = callee.getSymbol();
  const aliased = symbol?.getAliasedSymbol() ?? symbol;
  const decl = aliased?.getDeclarations()[0];
  if (!decl || !Node.isFunctionDeclaration(decl)) return false;
  return decl.getName() === 'defineModel' && /generator[\\/]model[\\/]spec\.(d\.)?ts$/.test(decl.getSourceFile().getFilePath());
}
