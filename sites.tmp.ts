import { findSites, workflowProgram } from './versioning/command-sites';
const t = Date.now();
const wp = workflowProgram(process.cwd());
for (const s of findSites(wp)) console.log(s.kind.padEnd(9), `${s.file}:${s.line}`.padEnd(36), s.label);
console.log(Date.now() - t, 'ms');
