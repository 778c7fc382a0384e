/** One entry of a WebDAV PROPFIND answer. */
export interface DavEntry {
	/** The entry's URL (absolute, as the server wrote it, resolved against the request). */
	url: string;
	isCollection: boolean;
	size: number | undefined;
	modified: Date | undefined;
}

const responseRe = /<(?:[\w.-]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?response>/g;

/** Parses a PROPFIND multistatus body (any namespace prefix) into entries. */
export function parseMultistatus(xml: string, requestUrl: string): DavEntry[] {
	const out: DavEntry[] = [];
	for (const m of xml.matchAll(responseRe)) {
		const block = m[1] ?? "";
		const href = textOf(block, "href");
		if (!href) continue;
		const length = textOf(block, "getcontentlength");
		const modified = textOf(block, "getlastmodified");
		const type = /<(?:[\w.-]+:)?resourcetype\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?resourcetype>/.exec(block)?.[1] ?? "";
		out.push({
			url: new URL(unescapeXml(href), requestUrl).href,
			isCollection: /<(?:[\w.-]+:)?collection\b/.test(type),
			size: length === undefined || length === "" ? undefined : Number(length),
			modified: modified && !Number.isNaN(Date.parse(modified)) ? new Date(modified) : undefined,
		});
	}
	return out;
}

/** The body of a PROPFIND asking for what staging needs. */
export const propfindBody =
	'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/></D:prop></D:propfind>';

function textOf(block: string, tag: string): string | undefined {
	const re = new RegExp(`<(?:[\\w.-]+:)?${tag}\\b[^>]*>([^<]*)<\\/(?:[\\w.-]+:)?${tag}>`);
	return re.exec(block)?.[1]?.trim();
}

function unescapeXml(s: string): string {
	return s
		.replace(/&lt;/g, "<")
		.replace(/&gt;/g, ">")
		.replace(/&quot;/g, '"')
		.replace(/&apos;/g, "'")
		.replace(/&amp;/g, "&");
}
