#!/usr/bin/env node
// Fails when a TypeScript file under src/ is longer than MAX_LINES lines, and lists every such
// file with its length (STYLE.md "Small files": split a module before it passes a few hundred
// lines). Run by scripts/test.sh with the typecheck; `npm run lint:size` runs it alone.
//   node scripts/check-size.mjs [DIR]      DIR defaults to src
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Longest `.ts` file allowed under src/, in lines. */
const MAX_LINES = 400

const root = process.argv[2] ?? 'src'

/** Every `.ts` file under `dir`, recursively, as paths relative to the working directory. */
function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return tsFiles(file)
    return entry.isFile() && entry.name.endsWith('.ts') ? [file] : []
  })
}

/** Lines of a text: its newline count, plus one for a last line without a newline. */
function lineCount(text) {
  if (text.length === 0) return 0
  const newlines = text.split('\n').length - 1
  return text.endsWith('\n') ? newlines : newlines + 1
}

const over = tsFiles(root)
  .map((file) => ({ file, lines: lineCount(readFileSync(file, 'utf8')) }))
  .filter((f) => f.lines > MAX_LINES)
  .sort((a, b) => b.lines - a.lines)

if (over.length > 0) {
  console.error(`[check-size] ${over.length} file(s) in ${root}/ over ${MAX_LINES} lines; split them:`)
  for (const { file, lines } of over) console.error(`  ${file}: ${lines} lines`)
  process.exit(1)
}
console.error(`[check-size] every .ts file in ${root}/ has at most ${MAX_LINES} lines`)
