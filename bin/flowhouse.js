#!/usr/bin/env node
// Entry point of the `flowhouse` command. Pipeline modules and flowhouse itself are TypeScript,
// loaded through tsx's ESM hooks; `import ... from 'flowhouse'` in a pipeline module anywhere
// resolves to this copy of flowhouse (src/util/module-hooks.mjs). Both are registered here,
// before anything else loads.
import '../src/util/register-hooks.mjs'

await import('../src/cli/main.ts')
