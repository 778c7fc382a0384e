import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { AppError } from "../../common/index.js";

/** Which addresses staging may reach besides public ones: `true` (all), or CIDRs and host names. */
export type PrivateNetworkAllowance = boolean | readonly string[];

const privateRanges = new BlockList();
for (const [net, bits] of [
	["0.0.0.0", 8],
	["10.0.0.0", 8],
	["100.64.0.0", 10],
	["127.0.0.0", 8],
	["169.254.0.0", 16],
	["172.16.0.0", 12],
	["192.0.0.0", 24],
	["192.168.0.0", 16],
	["198.18.0.0", 15],
	["224.0.0.0", 4],
	["240.0.0.0", 4],
] as const)
	privateRanges.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
	["::", 128],
	["::1", 128],
	["fc00::", 7],
	["fe80::", 10],
	["ff00::", 8],
	["64:ff9b::", 96],
	["2001:db8::", 32],
] as const)
	privateRanges.addSubnet(net, bits, "ipv6");

/** True for loopback, private, link-local, carrier-grade NAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	if (mapped) return isPrivateAddress(mapped[1] as string);
	const family = isIP(address);
	if (family === 0) return true;
	return privateRanges.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Decides per host and address whether staging may connect; the one place the SSRF rule lives. */
export class AddressGuard {
	private readonly allowed = new BlockList();
	private readonly allowedHosts = new Set<string>();
	private readonly isAllowingAll: boolean;

	constructor(allowance: PrivateNetworkAllowance) {
		this.isAllowingAll = allowance === true;
		if (Array.isArray(allowance)) {
			for (const entry of allowance as readonly string[]) {
				const [net, bits] = entry.split("/");
				const family = isIP(net ?? "");
				if (family === 0) this.allowedHosts.add(entry.toLowerCase());
				else if (bits === undefined) this.allowed.addAddress(net as string, family === 4 ? "ipv4" : "ipv6");
				else this.allowed.addSubnet(net as string, Number(bits), family === 4 ? "ipv4" : "ipv6");
			}
		}
	}

	/** True when an address of a host may be reached. */
	isAllowed(host: string, address: string): boolean {
		if (this.isAllowingAll || !isPrivateAddress(address)) return true;
		if (this.allowedHosts.has(host.toLowerCase())) return true;
		const family = isIP(address);
		return family !== 0 && this.allowed.check(address, family === 4 ? "ipv4" : "ipv6");
	}

	/** Resolves a host and refuses it when any of its addresses is not allowed (checked before connecting). */
	async check(host: string, url: string): Promise<void> {
		const bare = host.replace(/^\[|\]$/g, "");
		let addresses: string[];
		if (isIP(bare)) addresses = [bare];
		else {
			try {
				addresses = (await lookup(bare, { all: true })).map((a) => a.address);
			} catch (cause) {
				throw new AppError("validation_failed", `cannot resolve the host of ${url}: ${bare} is unknown`, { cause });
			}
		}
		const refused = addresses.find((a) => !this.isAllowed(bare, a));
		if (refused !== undefined) throw this.refusal(url, bare, refused);
	}

	/** A `lookup` for HTTP agents: every connection is checked again, so DNS cannot change the answer later. */
	lookup(): (
		hostname: string,
		options: object,
		callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
	) => void {
		return (hostname, options, callback) => {
			dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
				if (err) return callback(err, "");
				const list = addresses as LookupAddress[];
				const refused = list.find((a) => !this.isAllowed(hostname, a.address));
				if (refused) return callback(this.refusal(hostname, hostname, refused.address) as NodeJS.ErrnoException, "");
				if ((options as { all?: boolean }).all) return callback(null, list);
				const first = list[0] as LookupAddress;
				return callback(null, first.address, first.family);
			});
		};
	}

	private refusal(url: string, host: string, address: string): AppError {
		return new AppError(
			"forbidden",
			`refusing to connect to ${url}: ${host} resolves to ${address}, a private or loopback address; an administrator can allow it with ORRERY_STAGING_ALLOW_PRIVATE`,
		);
	}
}
