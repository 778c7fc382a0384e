import { useEffect, useRef } from "react";
import { AppHeader } from "./app-header.js";
import { NotFoundPage } from "./not-found-page.js";
import { QuotaPage } from "./quota-page.js";
import { matchPath, navigate, useLocation } from "./router.js";
import { RunPage } from "./run-page.js";
import { RunsPage } from "./runs-page.js";
import { SessionProvider, useSession } from "./session-provider.js";
import { SignInPage } from "./sign-in-page.js";
import { TokensPage } from "./tokens-page.js";

/** The whole UI: the session around the page the URL names. */
export function App() {
	return (
		<SessionProvider>
			<Shell />
		</SessionProvider>
	);
}

function Shell() {
	const { token } = useSession();
	const { pathname } = useLocation();
	const main = useRef<HTMLElement>(null);
	const first = useRef(true);

	// After an in-app navigation, move focus to the new page's heading, as a page load would.
	// biome-ignore lint/correctness/useExhaustiveDependencies: the effect is about the path changing, not reading it
	useEffect(() => {
		if (first.current) {
			first.current = false;
			return;
		}
		const heading = main.current?.querySelector<HTMLElement>("h1");
		if (heading) {
			heading.tabIndex = -1;
			heading.focus({ preventScroll: false });
		}
	}, [pathname]);

	useEffect(() => {
		if (token && pathname === "/signin") navigate("/runs", { replace: true });
	}, [token, pathname]);

	return (
		<>
			<a className="skip-link" href="#main">
				Skip to content
			</a>
			<AppHeader />
			<main id="main" ref={main} tabIndex={-1}>
				{token ? <Page pathname={pathname} /> : <SignInPage />}
			</main>
		</>
	);
}

function Page({ pathname }: { pathname: string }) {
	if (pathname === "/" || pathname === "/runs" || pathname === "/signin") return <RunsPage />;
	const run = matchPath("/runs/:ref", pathname);
	if (run?.ref) return <RunPage key={run.ref} runRef={run.ref} />;
	if (pathname === "/tokens") return <TokensPage />;
	if (pathname === "/quota") return <QuotaPage />;
	return <NotFoundPage />;
}
