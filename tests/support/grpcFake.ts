import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

// google-gax ships the common protos (google/api, google/rpc...) beside its build.
export const COMMON_PROTOS = path.join(path.dirname(require.resolve("google-gax")), "..", "protos");

/**
 * A gRPC server on a free port of 127.0.0.1 for one service of a client's own proto file, its
 * messages as JSON (longs and enums as strings, oneofs named), no TLS. `service` is the service's
 * full name (`google.monitoring.v3.MetricService`).
 */
export async function serveGrpc(
  protoFile: string,
  includeDirs: readonly string[],
  service: string,
  handlers: grpc.UntypedServiceImplementation,
): Promise<{ address: string; server: grpc.Server }> {
  const definition = protoLoader.loadSync(protoFile, {
    includeDirs: [...includeDirs, COMMON_PROTOS],
    longs: String,
    enums: String,
    oneofs: true,
  });
  const loaded = service
    .split(".")
    .reduce<unknown>(
      (node, key) => (node as Record<string, unknown>)[key],
      grpc.loadPackageDefinition(definition),
    ) as { service: grpc.ServiceDefinition };
  const server = new grpc.Server();
  server.addService(loaded.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { address: `127.0.0.1:${port}`, server };
}

/** Stops a server started by serveGrpc, letting calls in flight finish. */
export const stopGrpc = (server: grpc.Server | undefined): Promise<void> =>
  new Promise((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));

/**
 * What the fakes of Google's List APIs share: the next calls can be scripted to fail with a gRPC
 * error, and answers come in pages of `pageSize` items (0: one page), linked by `nextPageToken`, the
 * offset of the next page's first item.
 */
export abstract class ListServiceFake {
  pageSize = 0;
  private failures: { code: grpc.status; details: string }[] = [];
  private server?: grpc.Server;

  /** The next `count` calls answer `code`. */
  fail(code: grpc.status, details: string, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push({ code, details });
  }

  stop(): Promise<void> {
    return stopGrpc(this.server);
  }

  /** Serves `handlers` (serveGrpc); returns the address. */
  protected async listen(...args: Parameters<typeof serveGrpc>): Promise<string> {
    const { address, server } = await serveGrpc(...args);
    this.server = server;
    return address;
  }

  /** The failure scripted for this call, if any. */
  protected nextFailure(): { code: grpc.status; details: string } | undefined {
    return this.failures.shift();
  }

  /** The page of `all` that `pageToken` starts, and the token of the next. */
  protected page<T>(all: readonly T[], pageToken: string | undefined): { items: T[]; nextPageToken: string } {
    const from = Number(pageToken || 0);
    const to = this.pageSize > 0 ? from + this.pageSize : all.length;
    return { items: all.slice(from, to), nextPageToken: to < all.length ? String(to) : "" };
  }
}
