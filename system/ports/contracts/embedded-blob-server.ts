// Test helper, not core code: it serves the embedded blob store's signed URLs over real HTTP so
// the BlobStore contract can exercise them with fetch, as clients do with S3 presigned URLs.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** The part of EmbeddedBlobStore the server needs (structural, so ports never import adapters). */
export interface HttpServedBlobStore {
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  setBaseUrl(url: string): void;
}

export interface EmbeddedBlobServer {
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts a loopback HTTP server routing to `store.handleHttp` and tells the store its base URL. */
export async function startEmbeddedBlobServer(store: HttpServedBlobStore): Promise<EmbeddedBlobServer> {
  const server = createServer((req, res) => {
    if (!store.handleHttp(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the blob server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  store.setBaseUrl(baseUrl);
  return {
    baseUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
