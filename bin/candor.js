#!/usr/bin/env node
// The `candor` command: runs the TypeScript CLI with the current Node, which strips types natively.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `candor needs Node.js >= 22.18 (found ${process.versions.node}). ` +
      'Bring Node 24 into .tools/node with: eval "$(scripts/ensure-node.sh)"\n',
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
