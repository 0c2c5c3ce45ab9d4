/**
 * What a project folder needs beside its stack files for the program to render there: the entry
 * point, the sources it imports, and the installed packages. Tests and the bench link these into
 * throwaway folders that hold only copies of the stack files.
 */
export const PROGRAM_ENTRIES = [
  "index.ts",
  "stack",
  "config",
  "components",
  "model",
  "render",
  "cli",
  "package.json",
  "tsconfig.json",
  "node_modules",
] as const;
