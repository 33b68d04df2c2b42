// Runs before npm installs anything: a clear message instead of a native-addon compile error on old Node.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `\nCandor needs Node.js >= 22 (found ${process.versions.node}).\n` +
      'Bring Node 24 into .tools/node from the npm registry and put it first on PATH:\n' +
      '  eval "$(scripts/ensure-node.sh)"\nthen run npm ci again.\n',
  );
  process.exit(1);
}
