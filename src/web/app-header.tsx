import { Link, useLocation } from "./router.js";
import { useSession } from "./session-provider.js";

const sections = [
	{ href: "/runs", label: "Runs" },
	{ href: "/tokens", label: "Tokens" },
	{ href: "/quota", label: "Quota" },
] as const;

/** The top bar: the product, the sections, and who is signed in. */
export function AppHeader() {
	const { token, user, signOut } = useSession();
	const { pathname } = useLocation();
	const current = (href: string) =>
		pathname === href || pathname.startsWith(`${href}/`) || (href === "/runs" && pathname === "/");
	return (
		<header className="app-header">
			<Link href="/runs" className="brand">
				<img src="/favicon.svg" alt="" width="24" height="24" />
				Orrery
			</Link>
			{token ? (
				<>
					<nav aria-label="Sections">
						<ul>
							{sections.map((s) => (
								<li key={s.href}>
									<Link href={s.href} aria-current={current(s.href) ? "page" : undefined}>
										{s.label}
									</Link>
								</li>
							))}
						</ul>
					</nav>
					<div className="who">
						<span className="who-name" title={user ? `user id ${user.id}` : undefined}>
							{user ? user.email : "\u00a0"}
						</span>
						<button type="button" className="button-quiet" onClick={() => signOut()}>
							Sign out
						</button>
					</div>
				</>
			) : null}
		</header>
	);
}
