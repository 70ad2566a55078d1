// Layering of src/ (docs/ARCHITECTURE.md, "Layers"): a file may import from its own layer or below, never
// above, so the ICE rules, the codecs and the sockets can be read and tested without the agent or the CLI on
// top of them. `npm run lint` runs `npm run lint:deps` (this file), so a new upward import fails CI.

/** Lowest first. A name is a folder under src/ or a file src/<name>.ts (agent.ts, cli.ts, errors.ts). */
const LAYERS = [
  ['errors'],
  ['stun', 'framing', 'candidate'],
  ['checklist', 'turn', 'server', 'transport'],
  ['gather', 'connection'],
  ['agent'],
  // Applications of the agent and of its connections: signalling adapters, the rendezvous server they talk
  // to, the tunnel mux carried on a connection's byte stream.
  ['signalling', 'rendezvous', 'tunnel'],
  ['cli'],
];

const inLayer = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;
const above = (index) => LAYERS.slice(index + 1).flat();

const upwardRules = LAYERS.slice(0, -1).map((names, index) => ({
  name: `no-upward-from-${names.join('-')}`,
  comment: `${names.join(', ')} may import only from: ${LAYERS.slice(0, index + 1).flat().join(', ')}`,
  severity: 'error',
  from: { path: inLayer(names) },
  to: { path: inLayer(above(index)) },
}));

const known = inLayer(LAYERS.flat());
/** The package entry sits above every layer: it may import anything, and nothing in src/ imports it. */
const entry = '^src/index\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upwardRules,
    {
      name: 'no-entry-import',
      comment: 'src/index.ts is the package entry; code inside src/ imports the module itself, not the entry',
      severity: 'error',
      from: { path: known },
      to: { path: entry },
    },
    {
      name: 'no-unlayered-importer',
      comment: 'every file under src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: [known, entry] },
      to: {},
    },
    {
      name: 'no-unlayered-import',
      comment: 'every file under src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: [known, entry] },
    },
    {
      name: 'no-circular',
      comment: 'an import cycle hides which layer a file belongs to',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that does not resolve would escape every rule above',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    // Type-only imports count: the upward edges this guards against were mostly types.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
