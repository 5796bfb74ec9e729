/**
 * The sandbox's verdict on a parse tree (ast.ts) against the allowlists of policy.ts. Pure, so
 * every rule is unit-tested on trees ClickHouse printed.
 */
import type { AstNode } from './ast.ts'
import { EXPLAIN_KINDS, IN_FUNCTIONS, NODE_KINDS, ROOT_KINDS, SYSTEM_TABLES, type FunctionAllowlist } from './policy.ts'

/** What the verdict needs to know. */
export interface JudgeContext {
  /** flowhouse's database: its tables may be read. */
  database: string
  functions: FunctionAllowlist
}

/** Why a query is refused; `rule` is a short name of the rule (for logs and tests). */
export class Refusal extends Error {
  constructor(
    readonly rule: 'statement' | 'node' | 'function' | 'table-function' | 'table' | 'name' | 'settings' | 'output',
    message: string,
  ) {
    super(message)
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/**
 * A part of a dotted column name: any JSON key is a column (README "Writing a pipeline module"),
 * so spaces and punctuation are allowed, but not what could forge the printed parse: parentheses
 * (` (alias x)`, ` (children n)`), quotes, backslashes, control characters, or leading and
 * trailing spaces.
 */
const NAME_PART = /^(?! )[^\u0000-\u001f\u007f()`'"\\]+(?<! )$/
/** Table names stay plain dotted identifiers; `-` is allowed as in flowhouse's own identifiers (src/clickhouse/sql.ts). */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_0-9][A-Za-z0-9_-]*)*$/
const compoundName = (name: string): boolean => name.split('.').every((part) => NAME_PART.test(part))

function describeNode(node: AstNode): string {
  switch (node.kind) {
    case 'Set':
      return 'a SETTINGS clause'
    case 'KillQueryQuery':
      return 'KILL'
    case 'SYSTEM query':
    case 'SystemQuery':
      return 'SYSTEM'
    default:
      return `${node.kind}${node.data ? ` ${node.data}` : ''}`
  }
}

/**
 * Checks the whole tree; returns normally when every rule holds.
 * @throws Refusal naming the first rule broken.
 */
export function judge(root: AstNode, ctx: JudgeContext): void {
  if (!ROOT_KINDS.has(root.kind)) throw new Refusal('statement', `only a SELECT (with WITH, UNION, subqueries), SHOW TABLES, DESCRIBE or EXPLAIN of one is allowed (got ${describeNode(root)})`)
  if (root.kind === 'ShowTables' && root.children.length > 0) throw new Refusal('statement', 'SHOW TABLES lists flowhouse\'s database only: leave out FROM / LIKE')
  if (root.kind === 'Explain') {
    if (!EXPLAIN_KINDS.has(root.data)) throw new Refusal('statement', `${root.data} is not allowed; use EXPLAIN, EXPLAIN AST, SYNTAX, PLAN, PIPELINE or ESTIMATE`)
    if (root.children.length !== 1 || root.children[0]?.kind !== 'SelectWithUnionQuery') throw new Refusal('settings', 'EXPLAIN takes one SELECT and no settings')
  }
  visit(root, undefined, ctx)
}

function visit(node: AstNode, parent: AstNode | undefined, ctx: JudgeContext): void {
  if (node.kind === 'Set') throw new Refusal('settings', 'a SETTINGS clause is not allowed: the sandbox\'s limits cannot be changed by a query')
  if (!NODE_KINDS.has(node.kind)) throw new Refusal('node', `${describeNode(node)} is not allowed in a sandboxed query`)
  if (node.alias !== undefined && !NAME.test(node.alias)) throw new Refusal('name', `alias ${JSON.stringify(node.alias)} is not a plain name`)
  switch (node.kind) {
    case 'SelectWithUnionQuery':
      // A second child is INTO OUTFILE '<path>', FORMAT <name> or SETTINGS of the whole query.
      if (node.children.length !== 1 || node.children[0]?.kind !== 'ExpressionList') {
        throw new Refusal('output', 'INTO OUTFILE, FORMAT and SETTINGS are not allowed: flowhouse chooses the output format and returns the rows')
      }
      break
    case 'Identifier':
    case 'QualifiedAsterisk':
      if (node.kind === 'Identifier' && !compoundName(node.data)) throw new Refusal('name', `name ${JSON.stringify(node.data)} is not a plain (optionally dotted) name`)
      break
    case 'TableIdentifier':
      checkTable(node.data, ctx)
      break
    case 'TableExpression':
      for (const child of node.children) {
        if (child.kind === 'Function') throw new Refusal('table-function', `table function ${child.data}() is not allowed: read flowhouse's tables by name`)
      }
      break
    case 'Function':
      if (!NAME.test(node.data)) throw new Refusal('name', `function name ${JSON.stringify(node.data)} is not a plain name`)
      if (parent?.kind !== 'TableExpression' && !ctx.functions.allows(node.data)) {
        throw new Refusal('function', `function ${node.data}() is not allowed in a sandboxed query (files, network, dictionaries, settings and server introspection are out of reach)`)
      }
      if (IN_FUNCTIONS.has(node.data)) {
        const operand = node.children[0]?.children[1]
        if (operand?.kind === 'Identifier') checkTable(operand.data, ctx)
      }
      break
  }
  for (const child of node.children) visit(child, node, ctx)
}

function checkTable(name: string, ctx: JudgeContext): void {
  if (!TABLE_NAME.test(name)) throw new Refusal('name', `table name ${JSON.stringify(name)} is not a plain name`)
  const parts = name.split('.')
  if (parts.length === 1) return // flowhouse's database is the session's current one (or a WITH name)
  if (parts.length !== 2) throw new Refusal('table', `table ${name} is not a table of database ${ctx.database}`)
  const [db, table] = parts as [string, string]
  if (db === ctx.database) return
  if (db === 'system' && SYSTEM_TABLES.has(table)) return
  if (db === 'system') throw new Refusal('table', `system.${table} is not readable here; allowed system tables: ${[...SYSTEM_TABLES].join(', ')}`)
  throw new Refusal('table', `table ${name} is outside flowhouse's database ${ctx.database}`)
}
