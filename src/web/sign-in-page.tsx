import { type FormEvent, useEffect, useId, useState } from "react";
import { apiCall, errorMessage } from "./api-client.js";
import { useSession } from "./session-provider.js";
import { usePageTitle } from "./use-page-title.js";
import { useResource } from "./use-resource.js";

function hostOf(url: string | null): string {
	try {
		return url ? new URL(url).host : "";
	} catch {
		return "";
	}
}

/** Sign in by pasting an access token (kept in this tab's sessionStorage), or through OIDC when the server has it. */
export function SignInPage() {
	usePageTitle("Sign in");
	const { signIn, notice } = useSession();
	const [value, setValue] = useState("");
	const [error, setError] = useState<string>();
	const [isBusy, setBusy] = useState(false);
	const inputId = useId();
	const helpId = useId();
	// Public: how people log in here. An older server without it simply offers the token field.
	const auth = useResource("auth-config", (signal) => apiCall("auth_config", { signal }));
	const oidc = auth.data?.oidc_enabled && auth.data.login_url ? auth.data : undefined;

	const submit = async (token: string) => {
		if (!token.trim()) {
			setError("Paste your access token first.");
			return;
		}
		setBusy(true);
		setError(undefined);
		try {
			await signIn(token);
		} catch (e) {
			setError(errorMessage(e));
		} finally {
			setBusy(false);
		}
	};

	// A sign-in link (from the OIDC callback or `orrery`) carries the token in the fragment, never sent to servers.
	// biome-ignore lint/correctness/useExhaustiveDependencies: read the address once, when the page opens
	useEffect(() => {
		const fromLink = new URLSearchParams(window.location.hash.slice(1)).get("access_token");
		if (!fromLink) return;
		window.history.replaceState(null, "", window.location.pathname + window.location.search);
		void submit(fromLink);
	}, []);

	const onSubmit = (event: FormEvent) => {
		event.preventDefault();
		void submit(value);
	};

	return (
		<section className="sign-in">
			<h1>Sign in to Orrery</h1>
			{notice ? (
				<p className="banner banner-warning" role="status">
					{notice}
				</p>
			) : null}
			{oidc?.login_url ? (
				<>
					<p>
						<a className="button" href={oidc.login_url}>
							Sign in with your institution
						</a>{" "}
						<span className="muted">{hostOf(oidc.issuer)}</span>
					</p>
					<p className="muted">Or use an access token:</p>
				</>
			) : null}
			<form onSubmit={onSubmit} noValidate>
				<label htmlFor={inputId}>Access token</label>
				<input
					id={inputId}
					name="access_token"
					type="password"
					autoComplete="off"
					spellCheck={false}
					aria-describedby={helpId}
					aria-invalid={error ? true : undefined}
					value={value}
					onChange={(e) => setValue(e.target.value)}
				/>
				<p id={helpId} className="hint">
					Paste a personal access token (it starts with <code>orr_</code>). An administrator creates one with{" "}
					<code>orrery admin create-user --email you@example.org</code>. It is kept only in this browser tab and
					forgotten when you close it.
				</p>
				{error ? (
					<p className="form-error" role="alert">
						{error}
					</p>
				) : null}
				<button type="submit" className="button" disabled={isBusy}>
					{isBusy ? "Checking…" : "Sign in"}
				</button>
			</form>
		</section>
	);
}
