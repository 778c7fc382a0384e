import type { StagingConfig } from "../../config/index.js";
import { AddressGuard } from "./address-guard.js";
import { FileStore } from "./file-store.js";
import { HttpStore } from "./http-store.js";
import type { RemoteStore } from "./remote-store.js";
import type { RemoteLocation } from "./remote-url.js";
import { S3Store } from "./s3-store.js";
import {
	type EndpointOptions,
	resolveS3Endpoint,
	type StagingSecrets,
	s3CredentialsFor,
} from "./staging-credentials.js";

/**
 * The stores one user's transfers go through, with their credentials and the address guard; made
 * for one staging phase and closed after it (connections are kept alive in between).
 */
export class StagingSession {
	readonly guard: AddressGuard;
	private readonly stores = new Map<string, RemoteStore>();

	constructor(
		readonly config: StagingConfig,
		private readonly secrets: StagingSecrets,
	) {
		this.guard = new AddressGuard(config.allowPrivateNetworks);
	}

	/**
	 * The store for a location, checked before any byte moves: the scheme is allowed, the credentials
	 * exist (the error names the secret to add), and the host is not a private address.
	 */
	async storeFor(loc: RemoteLocation, options: EndpointOptions = {}): Promise<RemoteStore> {
		if (loc.scheme === "file") {
			const store = this.cached("file", () => new FileStore(this.config.fileRoots));
			await store.stat(loc.url, new AbortController().signal); // refuses folders the administrator did not allow
			return store;
		}
		if (loc.scheme !== "s3") {
			await this.guard.check(new URL(loc.url.replace(/^dav/i, "http")).hostname, loc.url);
			return this.cached("http", () => new HttpStore(this.guard, this.secrets, this.config.concurrency));
		}
		const ep = resolveS3Endpoint(loc.host, options, this.config);
		const credentials = s3CredentialsFor(ep, this.secrets, loc.url);
		if (ep.url) await this.guard.check(new URL(ep.url).hostname, loc.url);
		const key = `s3|${ep.url ?? "aws"}|${ep.pathStyle}|${ep.region}|${credentials?.accessKeyId ?? "-"}`;
		return this.cached(key, () => new S3Store(ep, credentials, this.guard, this.config.concurrency));
	}

	/** Closes every store's connections. */
	close(): void {
		for (const s of this.stores.values()) s.close();
		this.stores.clear();
	}

	private cached(key: string, make: () => RemoteStore): RemoteStore {
		let store = this.stores.get(key);
		if (!store) {
			store = make();
			this.stores.set(key, store);
		}
		return store;
	}
}
