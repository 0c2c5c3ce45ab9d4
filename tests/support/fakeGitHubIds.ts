import { serve } from "./localServer";

/**
 * A GitHub API on 127.0.0.1 that answers the lookups of `orchestra cicd ids`: GET requests by path
 * (below an Enterprise-style `/api/v3` prefix) from a table, for the listed tokens only.
 */
export interface FakeIdsApi {
  /** GITHUB_API_URL for orchestra. */
  readonly url: string;
  /** Every request, as `METHOD /path` below the prefix. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFakeIdsApi(
  tokens: readonly string[],
  objects: Readonly<Record<string, { id: number } & Record<string, unknown>>>,
): Promise<FakeIdsApi> {
  const requests: string[] = [];
  const { url, close } = await serve((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = req.url ?? "";
    if (!url.startsWith("/api/v3/")) return send(404, { message: "Not Found" });
    const p = url.slice("/api/v3".length).split("?")[0];
    requests.push(`${req.method} ${p}`);
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!tokens.includes(token)) return send(401, { message: "Bad credentials" });
    const object = req.method === "GET" ? objects[p] : undefined;
    return object ? send(200, object) : send(404, { message: "Not Found" });
  });
  return { url: `${url}/api/v3`, requests, close };
}
