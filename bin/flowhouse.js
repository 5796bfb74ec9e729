#!/usr/bin/env node
// Entry point of the `flowhouse` command. Pipeline modules and flowhouse itself are
// TypeScript, loaded through tsx's ESM hooks (registered here, before anything else loads).
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
