/** URL schemes Orrery can stage data from or publish it to (Orrery extension of reana.yaml). */
export const remoteUrlSchemes = ["s3", "https", "http", "davs", "dav", "file"] as const;

/** A URL scheme of a remote input or a publish target. */
export type RemoteUrlScheme = (typeof remoteUrlSchemes)[number];
