/**
 * The import rules between folders (ARCHITECTURE.md has the picture in words). Layers, from
 * the inside out; each may import only the layers below it:
 *
 *   domain → config, logger → store, outbound → delivery → runtime → usecases → http-common
 *   → edges (http, inspector, cli) → composition (app, engine, server, worker)
 *
 * Edges never import one another (cli may start the composition: server, worker). Outside
 * src/store, the store is imported through its index only. `npm test` runs this.
 */
const layer = (name, path) => ({ name, path });
const LAYERS = [
  layer('domain', '^src/domain/'),
  layer('base', '^src/(config|logger|version)\\.ts$'),
  layer('store', '^src/store/'),
  layer('outbound', '^src/outbound/'),
  layer('delivery', '^src/delivery/'),
  layer('runtime', '^src/runtime\\.ts$'),
  layer('usecases', '^src/usecases/'),
  layer('http-common', '^src/http-common/'),
];

/** For each layer: nothing above it (the later entries, and everything not a layer). */
const upward = LAYERS.map((l, i) => ({
  name: `no-upward-from-${l.name}`,
  comment: `${l.name} may import only the layers below it`,
  severity: 'error',
  from: { path: l.path, pathNot: '\\.test\\.ts$' },
  to: {
    path: '^src/',
    pathNot: LAYERS.slice(0, l.name === 'store' || l.name === 'outbound' ? 2 : i + 1).map((x) => x.path).concat(l.path),
  },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'edges-apart',
      comment: 'http, inspector and cli are edges: they never import one another',
      severity: 'error',
      from: { path: '^src/(http|inspector|cli)/' },
      to: { path: '^src/(http|inspector|cli)/', pathNot: '^src/$1/' },
    },
    {
      name: 'edges-below-composition',
      comment: 'http and inspector are registered by app.ts; they do not reach for the composition',
      severity: 'error',
      from: { path: '^src/(http|inspector)/' },
      to: { path: '^src/(app|engine|server|worker)\\.ts$' },
    },
    {
      name: 'store-through-its-index',
      comment: 'outside src/store, the store is imported through src/store/index.ts',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/' },
      to: { path: '^src/store/', pathNot: '^src/store/index\\.ts$' },
    },
    {
      name: 'web-stays-in-the-browser',
      comment: 'the dashboard talks to the API over HTTP; from src it may use pure domain modules only',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] },
  },
};
