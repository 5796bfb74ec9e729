/**
 * The tree of ClickHouse's own parse of a query, read from the text `EXPLAIN AST <query>` prints:
 * one node a line, indented one space per level, `Kind [data] [(alias a)] [(children n)]`.
 *
 * The reading is strict, so that the text cannot be made to lie about the tree: every line must
 * be a known shape, every `(children n)` must equal the children found under it (a node without
 * the mark must have none), names and aliases must be plain identifiers. Backquoted names holding
 * a line break, parentheses or spaces therefore make the query unreadable here, and it is refused.
 */

/** One node of the parse. */
export interface AstNode {
  /** e.g. `SelectQuery`, `Function`, `TableIdentifier`, `Literal`. */
  kind: string
  /** What follows the kind: a function or table name, a literal, an EXPLAIN kind. '' when none. */
  data: string
  alias: string | undefined
  children: AstNode[]
  /** Line in the EXPLAIN text (1-based), for messages. */
  line: number
}

/** A line of EXPLAIN AST could not be read (the caller refuses the query). */
export class AstReadError extends Error {}

const LINE = /^( *)([A-Za-z][A-Za-z0-9_]*)(.*)$/
const CHILDREN = / \(children (\d+)\)$/
const ALIAS = / \(alias ([A-Za-z_][A-Za-z0-9_]*)\)$/

interface Pending {
  node: AstNode
  depth: number
  declared: number
}

/**
 * Reads the text of `EXPLAIN AST` into its root node.
 * @throws AstReadError when a line is not a node, a child count disagrees, or there is not exactly one root.
 */
export function readExplainAst(text: string): AstNode {
  const lines = text.replace(/\n+$/, '').split('\n')
  const roots: AstNode[] = []
  const stack: Pending[] = []
  const counts = new Map<AstNode, number>()
  lines.forEach((raw, index) => {
    const m = LINE.exec(raw)
    if (!m) throw new AstReadError(`line ${index + 1} of the parse is not a node`)
    const depth = (m[1] as string).length
    let rest = m[3] as string
    let declared = 0
    const c = CHILDREN.exec(rest)
    if (c) {
      declared = Number(c[1])
      rest = rest.slice(0, c.index)
    }
    let alias: string | undefined
    const a = ALIAS.exec(rest)
    if (a) {
      alias = a[1]
      rest = rest.slice(0, a.index)
    }
    if (rest !== '' && !rest.startsWith(' ')) throw new AstReadError(`line ${index + 1} of the parse is not a node`)
    const node: AstNode = { kind: m[2] as string, data: rest.trim(), alias, children: [], line: index + 1 }
    while (stack.length > 0 && (stack[stack.length - 1] as Pending).depth >= depth) stack.pop()
    const parent = stack[stack.length - 1]
    if (parent === undefined) {
      if (depth !== 0) throw new AstReadError(`line ${index + 1} of the parse has no parent`)
      roots.push(node)
    } else {
      if (depth !== parent.depth + 1) throw new AstReadError(`line ${index + 1} of the parse skips a level`)
      parent.node.children.push(node)
    }
    counts.set(node, declared)
    stack.push({ node, depth, declared })
  })
  for (const [node, declared] of counts) {
    if (node.children.length !== declared) throw new AstReadError(`node ${node.kind} on line ${node.line} declares ${declared} children but has ${node.children.length}`)
  }
  if (roots.length !== 1) throw new AstReadError(`the parse has ${roots.length} statements; send exactly one`)
  return roots[0] as AstNode
}
