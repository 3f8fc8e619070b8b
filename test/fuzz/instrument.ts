/**
 * Coverage instrumentation for the fuzzer: a source transform of the compiled JavaScript that
 * counts, in one shared byte map, every block entered and every branch of `?:`, `&&`, `||` and
 * `??` taken. The fuzzer reads the map after each input to keep the inputs that reach new code
 * (or a block a new number of times), as libFuzzer and AFL do with their compiler's counters.
 */
import ts from 'typescript';

import { MAP_GLOBAL, USED_GLOBAL } from './coverage-globals.js';

export { MAP_GLOBAL, USED_GLOBAL };

export interface Instrumented {
  code: string;
  /** Counters used: ids firstId … firstId + count - 1. */
  count: number;
}

/** Instruments one ES module's source; ids start at `firstId` (modulo `mapSize`). */
export function instrument(source: string, fileName: string, firstId: number, mapSize: number): Instrumented {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const f = ts.factory;
  let next = 0;
  const local = f.createUniqueName('cov');
  const counter = (): ts.Expression => {
    const id = (firstId + next++) % mapSize;
    return f.createPostfixIncrement(f.createElementAccessExpression(local, id));
  };
  const counted = (e: ts.Expression): ts.Expression =>
    f.createParenthesizedExpression(f.createCommaListExpression([counter(), e]));
  const block = (s: ts.Statement): ts.Block =>
    ts.isBlock(s) ? s : f.createBlock([f.createExpressionStatement(counter()), s], true);

  const transformer: ts.TransformerFactory<ts.SourceFile> = (ctx) => {
    const visit = (node: ts.Node): ts.Node => {
      const n = ts.visitEachChild(node, visit, ctx);
      if (ts.isBlock(n)) return f.updateBlock(n, [f.createExpressionStatement(counter()), ...n.statements]);
      if (ts.isIfStatement(n))
        return f.updateIfStatement(
          n,
          n.expression,
          block(n.thenStatement),
          n.elseStatement && !ts.isIfStatement(n.elseStatement) ? block(n.elseStatement) : n.elseStatement,
        );
      if (ts.isForStatement(n))
        return f.updateForStatement(n, n.initializer, n.condition, n.incrementor, block(n.statement));
      if (ts.isForOfStatement(n))
        return f.updateForOfStatement(n, n.awaitModifier, n.initializer, n.expression, block(n.statement));
      if (ts.isForInStatement(n))
        return f.updateForInStatement(n, n.initializer, n.expression, block(n.statement));
      if (ts.isWhileStatement(n)) return f.updateWhileStatement(n, n.expression, block(n.statement));
      if (ts.isDoStatement(n)) return f.updateDoStatement(n, block(n.statement), n.expression);
      if (ts.isCaseClause(n))
        return f.updateCaseClause(n, n.expression, [f.createExpressionStatement(counter()), ...n.statements]);
      if (ts.isDefaultClause(n))
        return f.updateDefaultClause(n, [f.createExpressionStatement(counter()), ...n.statements]);
      if (ts.isConditionalExpression(n))
        return f.updateConditionalExpression(
          n,
          n.condition,
          n.questionToken,
          counted(n.whenTrue),
          n.colonToken,
          counted(n.whenFalse),
        );
      if (
        ts.isBinaryExpression(n) &&
        (n.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
          n.operatorToken.kind === ts.SyntaxKind.BarBarToken ||
          n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken)
      )
        return f.updateBinaryExpression(n, n.left, n.operatorToken, counted(n.right));
      if (ts.isArrowFunction(n) && !ts.isBlock(n.body))
        return f.updateArrowFunction(
          n,
          n.modifiers,
          n.typeParameters,
          n.parameters,
          n.type,
          n.equalsGreaterThanToken,
          counted(n.body),
        );
      return n;
    };
    return (root) => {
      const body = ts.visitEachChild(root, visit, ctx);
      // One module-level alias of the global map, so each counter is a local element access.
      const decl = f.createVariableStatement(
        undefined,
        f.createVariableDeclarationList(
          [
            f.createVariableDeclaration(
              local,
              undefined,
              undefined,
              f.createPropertyAccessExpression(f.createIdentifier('globalThis'), MAP_GLOBAL),
            ),
          ],
          ts.NodeFlags.Const,
        ),
      );
      // Imports must stay first; the alias goes right after them.
      const stmts = [...body.statements];
      let at = 0;
      while (at < stmts.length && ts.isImportDeclaration(stmts[at]!)) at++;
      // Tell the fuzzer how much of the map is in use, so it clears and scans only that.
      const used = Math.min(mapSize, firstId + next);
      const g = (name: string) => f.createPropertyAccessExpression(f.createIdentifier('globalThis'), name);
      const mark = f.createExpressionStatement(
        f.createAssignment(
          g(USED_GLOBAL),
          f.createCallExpression(
            f.createPropertyAccessExpression(f.createIdentifier('Math'), 'max'),
            undefined,
            [
              f.createBinaryExpression(g(USED_GLOBAL), ts.SyntaxKind.BarBarToken, f.createNumericLiteral(0)),
              f.createNumericLiteral(used),
            ],
          ),
        ),
      );
      stmts.splice(at, 0, decl, mark);
      return f.updateSourceFile(body, stmts);
    };
  };
  const out = ts.transform(sf, [transformer]);
  const code = ts.createPrinter({ removeComments: true }).printFile(out.transformed[0]!);
  out.dispose();
  return { code, count: next };
}
