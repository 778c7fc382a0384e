import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { ApiError, apiCall, type CallOutput, onUnauthorized, setApiToken } from "./api-client.js";

const storageKey = "orrery.access-token";

/** Who is signed in, and how to sign in and out. */
export interface Session {
	token: string | undefined;
	/** The signed-in user once /api/you has answered. */
	user: CallOutput<"get_you"> | undefined;
	/** Why the last session ended, to show on the sign-in page. */
	notice: string | undefined;
	/** Checks the token against the server and keeps it for this browser tab. */
	signIn(token: string): Promise<void>;
	signOut(notice?: string): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

function storedToken(): string | undefined {
	try {
		return window.sessionStorage.getItem(storageKey) ?? undefined;
	} catch {
		return undefined; // storage disabled: the user signs in again after a reload
	}
}

function storeToken(value: string | undefined): void {
	try {
		if (value) window.sessionStorage.setItem(storageKey, value);
		else window.sessionStorage.removeItem(storageKey);
	} catch {
		// storage disabled: the session lasts as long as the page
	}
}

/** Holds the access token (in sessionStorage, so it ends with the tab) and the user it belongs to. */
export function SessionProvider({ children }: { children: ReactNode }) {
	const [token, setToken] = useState<string | undefined>(() => {
		const value = storedToken();
		setApiToken(value);
		return value;
	});
	const [user, setUser] = useState<CallOutput<"get_you">>();
	const [notice, setNotice] = useState<string>();

	const signOut = useCallback((why?: string) => {
		// Ends a web session from an OIDC login on the server too; a personal access token stays valid.
		if (!why) void apiCall("logout").catch(() => undefined);
		storeToken(undefined);
		setApiToken(undefined);
		setToken(undefined);
		setUser(undefined);
		setNotice(why);
	}, []);

	const signIn = useCallback(
		async (value: string) => {
			const trimmed = value.trim();
			setApiToken(trimmed);
			try {
				const you = await apiCall("get_you");
				storeToken(trimmed);
				setToken(trimmed);
				setUser(you);
				setNotice(undefined);
			} catch (error) {
				setApiToken(token);
				if (error instanceof ApiError && (error.status === 401 || error.status === 403))
					throw new ApiError(error.status, error.code, `This token was not accepted: ${error.message}`);
				throw error;
			}
		},
		[token],
	);

	// The page starts with a stored token: show the runs at once and learn who we are alongside.
	useEffect(() => {
		if (!token || user) return;
		const controller = new AbortController();
		apiCall("get_you", { signal: controller.signal }).then(setUser, () => undefined);
		return () => controller.abort();
	}, [token, user]);

	useEffect(() => onUnauthorized((error) => signOut(`You were signed out: ${error.message}`)), [signOut]);

	const value = useMemo(() => ({ token, user, notice, signIn, signOut }), [token, user, notice, signIn, signOut]);
	return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/** The current session. */
export function useSession(): Session {
	const session = useContext(SessionContext);
	if (!session) throw new Error("useSession outside SessionProvider");
	return session;
}
