// The layers, bottom up: model (pure decisions and types) < config (schemas, validation) < components
// (Pulumi resources by area) < stack (what index.ts declares) < index.ts; render runs the program
// offline; policy judges what it renders; cli and the scripts sit on top. A module may import only
// from its own layer or below, and nothing may import in a circle. Run by `npm run lint`.
const above = (...layers) => `^(?:${layers.join("|")})(?:/|\\.ts$)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle: split the shared part into a module both can import. A cycle made only of type imports is erased by the compiler and allowed (a command's flags type inferred from its definition, say).",
      from: { pathNot: "node_modules" },
      to: { circular: true, pathNot: "node_modules", viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "model-is-pure",
      severity: "error",
      comment:
        "model/ is the pure bottom layer: plain TypeScript and Node's core modules, no packages, nothing above it.",
      from: { path: "^model/" },
      to: { pathNot: "^model/", dependencyTypesNot: ["core", "type-only"] },
    },
    {
      name: "model-types-stay-in-model",
      severity: "error",
      comment: "model/ may not even name a type from a package or a layer above it (Pulumi, zod, config...).",
      from: { path: "^model/" },
      to: { pathNot: "^model/", dependencyTypes: ["type-only"] },
    },
    {
      name: "config-below-components",
      severity: "error",
      from: { path: "^config/" },
      to: {
        path: above("components", "stack", "index", "render", "policy", "cli", "bench", "scripts", "tests"),
      },
    },
    {
      name: "components-below-stack",
      severity: "error",
      from: { path: "^components/" },
      to: { path: above("stack", "index", "render", "policy", "cli", "bench", "scripts", "tests") },
    },
    {
      name: "stack-below-index",
      severity: "error",
      from: { path: "^stack/" },
      to: { path: above("index", "render", "policy", "cli", "bench", "scripts", "tests") },
    },
    {
      name: "render-below-policy-and-cli",
      severity: "error",
      from: { path: "^render/" },
      to: { path: above("policy", "cli", "bench", "scripts", "tests") },
    },
    {
      name: "policy-below-cli",
      severity: "error",
      from: { path: "^policy/" },
      to: { path: above("cli", "bench", "scripts", "tests") },
    },
    {
      name: "only-tests-import-tests",
      severity: "error",
      from: { pathNot: "^tests/" },
      to: { path: "^tests/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // The policy pack's compiled output (`npm run build:policy`) repeats the sources it was built from.
    exclude: { path: "^policy/build/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
