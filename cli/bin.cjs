#!/usr/bin/env node
// `npx trapeze`: the project ships TypeScript without a build step, so the launcher registers tsx
// and runs cli/trapeze.ts in this process (no second node process to start).
require('tsx/cjs/api').register();
require('./launch.ts').launch(require('./trapeze.ts').runTrapeze);
