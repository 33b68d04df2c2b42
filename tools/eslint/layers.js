// Enforces the dependency rules of the architecture (docs/ARCHITECTURE.md):
//   kernel <- storage <- modules <- flows <- server/cli, never the reverse;
//   a module reaches another module only through that module's index.ts (its public surface).
import path from 'node:path';

// The CLI sits on top of the composition root: `candor serve` and every admin command start or open it.
const ORDER = { kernel: 0, storage: 1, modules: 2, flows: 3, server: 4, cli: 5 };

/** Where a file sits: its layer and, inside modules/, the module's name. */
function locate(file) {
  const parts = path.normalize(file).split(path.sep);
  const at = parts.lastIndexOf('src');
  if (at < 0) return null;
  const layer = parts[at + 1];
  if (!(layer in ORDER)) return null;
  const rest = parts.slice(at + 2);
  return { layer, module: layer === 'modules' ? rest[0] : undefined, rest };
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Layer and module boundaries' },
    schema: [],
    messages: {
      upward:
        '{{from}} must not import from {{to}}: dependencies point kernel <- storage <- modules <- flows <- server/cli.',
      moduleInternals:
        "Module '{{from}}' must not import another module's files ({{target}}); declare what it needs as a typed deps record, or import that module's index.ts.",
      internals: "Import module '{{module}}' through its index.ts, not {{target}}.",
    },
  },
  create(context) {
    const file = context.filename;
    const from = locate(file);
    if (!from) return {};
    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = locate(target);
      if (!to) return;
      if (
        ORDER[to.layer] > ORDER[from.layer] ||
        (to.layer !== from.layer && ORDER[to.layer] === ORDER[from.layer])
      ) {
        context.report({ node, messageId: 'upward', data: { from: from.layer, to: to.layer } });
        return;
      }
      if (to.layer === 'modules' && to.module !== from.module) {
        const isIndex = to.rest.length === 2 && to.rest[1] === 'index.ts';
        if (!isIndex) {
          context.report({
            node,
            messageId: from.layer === 'modules' ? 'moduleInternals' : 'internals',
            data: { from: from.module ?? from.layer, module: to.module, target: source },
          });
        }
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export const candorPlugin = { rules: { layers: layersRule } };
