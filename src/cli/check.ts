/** `flowhouse check`: loads and checks every module of the folder; prints one line per module. */
import { loadPipelines } from '../pipelines/loader.ts'

/** @returns the process exit code: 0 when every module passed, 1 otherwise. */
export async function checkCommand(dir: string): Promise<number> {
  const modules = await loadPipelines(dir)
  if (modules.length === 0) console.log(`no pipeline modules in ${dir}`)
  for (const m of modules) {
    if (m.error) console.log(`✗ ${m.file}\n    ${m.error}`)
    else {
      const d = m.defs!
      console.log(`✓ ${m.file}: ${d.pipelines.length} pipelines, ${d.streams.length} streams, ${d.tables.length} tables, ${d.views.length} views`)
      for (const note of d.views.flatMap((v) => v.notes ?? [])) console.log(`    note: ${note}`)
    }
  }
  return modules.some((m) => m.error) ? 1 : 0
}
