import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { parse } from "yaml";
import { buildProgram } from "../cli/main";
import type { JudgeFlags } from "../cli/commands/rollout";
import { judgeCommand } from "../cli/rollout/judgeCommand";
import { servicePlan } from "../model/release/servicePlan";
import { formatIssues } from "../config/errors";
import { readStackConfig } from "../render/stackFile";
import { baseConfig, ROOT, validate } from "./support/render";
import { anchors, docBlock, docFiles, fencedBlocks, proseOf, readDoc } from "./support/docs";

/** `orchestra rollout judge`'s flags with their defaults, as commander parses them. */
function judgeDefaults(): Omit<JudgeFlags, "input" | "json"> {
  const judge = buildProgram()
    .commands.find((c) => c.name() === "rollout")
    ?.commands.find((c) => c.name() === "judge");
  assert.ok(judge);
  judge.parseOptions([]);
  return judge.opts() as Omit<JudgeFlags, "input" | "json">;
}

/** The canary example of docs/canary-and-rollout.md: a full service with a pinned stable revision. */
const CANARY_EXAMPLE = "pinned by `orchestra canary start`";

describe("docs examples", () => {
  it("the runtime block of the docs is Pulumi.yaml's", () => {
    const example = docBlock("nodeargs:", "yaml");
    assert.ok(example, "a yaml block with nodeargs");
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { runtime: unknown };
    assert.deepEqual(parse(example), { runtime: project.runtime });
  });

  it("the canary example is a valid config whose pinned revision is the real stable revision", () => {
    const example = docBlock(CANARY_EXAMPLE, "yaml");
    assert.ok(example, "the docs show a canary example");
    const services = parse(example)["ai-orchestra:services"];
    const flat = {
      ...baseConfig(),
      "gcp:project": "ai-orchestra-prod",
      "ai-orchestra:services": JSON.stringify(services),
    };
    const result = validate("prod", flat);
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    const api = result.config.services[0];
    const unpinned = servicePlan(result.config, {
      ...api,
      canary: undefined,
      stable: { image: api.stable.image },
    });
    assert.equal(api.stable.revision, unpinned.plan?.templateRevision);
    assert.deepEqual(
      servicePlan(result.config, api).plan?.traffic.map((t) => [t.tag, t.percent]),
      [
        ["stable", 90],
        ["canary", 10],
      ],
    );
  });

  it("the README's canary in brief is the canary example, abridged", () => {
    const brief = fencedBlocks("README.md").find((b) => b.lang === "yaml" && b.text.includes("canary:"));
    assert.ok(brief, "README shows a canary");
    const full = parse(docBlock(CANARY_EXAMPLE, "yaml")!)["ai-orchestra:services"];
    const short = parse(brief.text)["ai-orchestra:services"];
    for (const [name, service] of Object.entries<Record<string, Record<string, unknown>>>(short))
      for (const [section, keys] of Object.entries(service))
        for (const key of Object.keys(keys))
          assert.ok(key in (full[name]?.[section] ?? {}), `${name}.${section}.${key} is in the full example`);
    assert.equal(short.api.canary.percent, full.api.canary.percent);
  });

  it("the config error example is what a typo prints", () => {
    const shown = docBlock("nothing was declared", "");
    assert.ok(shown, "the docs show a config error");
    const result = validate("prod", baseConfig({ memroy: "1Gi" }));
    assert.ok(!result.ok);
    assert.equal(formatIssues("prod", result.issues).trim(), shown.trim());
  });

  it("the monitoring example is a valid config for the prod stack, once its secrets are set", () => {
    const example = docBlock("ai-orchestra:monitoring:\n  runbookUrl:", "yaml");
    assert.ok(example, "the docs show a monitoring example");
    const flat = {
      ...readStackConfig(ROOT, "prod").flat,
      "ai-orchestra:monitoring": JSON.stringify(parse(example)["ai-orchestra:monitoring"]),
      "ai-orchestra:slackToken": "xoxb-example",
      "ai-orchestra:pagerdutyServiceKey": "example-key",
    };
    const result = validate("prod", flat);
    assert.ok(result.ok, result.ok ? "" : formatIssues("prod", result.issues));
    assert.equal(result.config.monitoring.services.worker.alerts.latency.thresholdMs, 600000);
    assert.equal(result.config.monitoring.services.api.alerts.saturation.notify, "page");
  });

  it("the rollout judge example prints what the docs show", () => {
    const input = docBlock('"explicitBuckets"', "json");
    const shown = docBlock('"decision": "rollback"', "json");
    assert.ok(input && shown, "the docs show a judge input and its output");
    let printed = "";
    judgeCommand(
      { input: "replay.json", json: true, ...judgeDefaults() },
      { readFile: () => input, readStdin: () => "", write: (t) => (printed += t) },
    );
    assert.equal(printed.trim(), shown.trim());
  });

  it("the quick start and .ci/run agree on the install and test commands, and CI also runs the end-to-end tests", () => {
    const quickStart = fencedBlocks("README.md").filter((b) => b.lang === "sh")[0]?.text ?? "";
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    assert.match(quickStart, /npm ci && npx orchestra plan --stack dev/);
    assert.match(quickStart, /npm test/);
    assert.match(ci, /npm ci/);
    assert.match(ci, /npx orchestra plan --stack dev/);
    assert.match(ci, /npm test/);
    assert.match(ci, /npm run test:e2e/);
  });
});

describe("docs/performance.md", () => {
  it("keeps one bench section, between the markers `npm run bench -- --write-docs` writes into", () => {
    const page = readDoc("docs/performance.md");
    const begin = page.split("<!-- bench:begin -->").length - 1;
    const end = page.split("<!-- bench:end -->").length - 1;
    assert.deepEqual([begin, end], [1, 1]);
    assert.ok(page.indexOf("<!-- bench:begin -->") < page.indexOf("<!-- bench:end -->"));
  });

  it("keeps one judgment bench table, written by `npm run bench:analysis -- --write-docs`", () => {
    const page = readDoc("docs/canary-and-rollout.md");
    const [, rest = ""] = page.split("<!-- bench:analysis:begin -->");
    const section = rest.split("<!-- bench:analysis:end -->")[0];
    assert.equal(page.split("<!-- bench:analysis:begin -->").length, 2);
    // What the script prints: every row of its table and a verdict per target.
    assert.match(section, /^scenario +canary req\/interval +rollback +before 50%/m);
    assert.match(section, /^\d+ of \d+ targets met\.$/m);
  });
});

describe("docs links", () => {
  it("every relative link in README.md and docs/*.md points to an existing file and heading", () => {
    const broken: string[] = [];
    for (const file of docFiles()) {
      // Links in code spans and fenced blocks are text, not links.
      const prose = proseOf(readDoc(file)).replace(/`[^`\n]*`/g, "");
      for (const m of prose.matchAll(/\[[^\]\n]*\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
        const [pathPart, anchor] = target.split("#", 2);
        const resolved = pathPart
          ? path.join(path.dirname(path.join(ROOT, file)), pathPart)
          : path.join(ROOT, file);
        if (!fs.existsSync(resolved)) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith(".md")) {
          if (!anchors(fs.readFileSync(resolved, "utf8")).has(anchor))
            broken.push(`${file}: ${target} (no heading #${anchor} in ${path.relative(ROOT, resolved)})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});

/** An `orchestra` command line shown in a `sh` block: its words after `orchestra`, up to `--` or a pipe. */
interface CommandLine {
  readonly file: string;
  readonly line: string;
  readonly words: readonly string[];
}

/** Splits a shell line into words, keeping quoted strings whole (quotes dropped). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Every `orchestra ...` invocation in the `sh` blocks of README.md and docs/*.md. */
function orchestraLines(): CommandLine[] {
  const found: CommandLine[] = [];
  for (const file of docFiles())
    for (const block of fencedBlocks(file).filter((b) => b.lang === "sh"))
      for (const raw of block.text.split("\n")) {
        const line = raw.replace(/(^|\s)#.*$/, ""); // comments
        // `orchestra` as a command: at the start, after npx, or after a pipe, `;`, `&&` or `<(`.
        for (const m of line.matchAll(/(?:^|[\s|;&(])(?:npx\s+)?orchestra\s+([^|;&)<>]*)/g)) {
          const words: string[] = [];
          for (const word of shellWords(m[1])) {
            if (word === "--") break; // what follows goes to pulumi
            words.push(word);
          }
          found.push({ file, line: line.trim(), words });
        }
      }
  return found;
}

const program = buildProgram();

/** `orchestra <path> --help`, as the CLI's own command tree prints it (no process per command). */
async function helpOf(commandPath: readonly string[]): Promise<string> {
  let command: CommandUnknownOpts = program;
  for (const name of commandPath) {
    const sub = command.commands.find((c) => c.name() === name);
    assert.ok(sub, `orchestra ${commandPath.join(" ")}: no such command`);
    command = sub;
  }
  return command.helpInformation();
}

/** The subcommands a help text lists under "Commands:" (without `help`). */
function subcommands(help: string): string[] {
  const section = help.split(/\n\s*\n/).find((part) => part.startsWith("Commands:")) ?? "";
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== "help");
}

/** Whether a help text lists the option, as `--name` or `-x` in its options. */
const lists = (help: string, option: string) =>
  new RegExp(`(^|[\\s,])${option.replace(/[-]/g, "\\-")}(?=[\\s,=<\\[]|$)`, "m").test(help);

describe("docs command lines", function () {
  it("every `orchestra` command line in a sh block names a real command and real options", async () => {
    const lines = orchestraLines();
    assert.ok(lines.length > 20, `found ${lines.length} orchestra command lines`);
    const problems: string[] = [];
    // Walk each line's words down the command tree, one --help per distinct command path.
    const checks = lines.map(async ({ file, line, words }) => {
      const commandPath: string[] = [];
      const helpsOnPath = [await helpOf([])];
      const options: string[] = [];
      let positional = 0;
      for (const word of words) {
        if (word.startsWith("-") && word !== "-") {
          // ("-" alone is a value: stdin.)
          options.push(word.split("=")[0]);
          continue;
        }
        const subs = subcommands(helpsOnPath[helpsOnPath.length - 1]);
        // A command with subcommands may take an argument of its own (`rollout <service>`, `rollout judge`).
        const takesArgument = /^Usage: .*</.test(helpsOnPath[helpsOnPath.length - 1]);
        if (positional === 0 && subs.length > 0 && !(takesArgument && !subs.includes(word))) {
          if (!subs.includes(word)) {
            problems.push(
              `${file}: \`${line}\`: \`${word}\` is not a command of \`orchestra ${commandPath.join(" ")}\` (${subs.join(", ")})`,
            );
            return;
          }
          commandPath.push(word);
          helpsOnPath.push(await helpOf(commandPath));
        } else positional++;
      }
      if (commandPath.length === 0) problems.push(`${file}: \`${line}\` names no command`);
      for (const option of options)
        // An option shared by the whole program is listed by an ancestor's help.
        if (!helpsOnPath.some((h) => lists(h, option)))
          problems.push(
            `${file}: \`${line}\`: \`orchestra ${commandPath.join(" ")} --help\` lists no ${option}`,
          );
    });
    await Promise.all(checks);
    assert.deepEqual(problems, []);
  });
});
