import { Link } from "./router.js";
import { usePageTitle } from "./use-page-title.js";

/** What a mistyped or outdated UI address shows. */
export function NotFoundPage() {
	usePageTitle("Not found");
	return (
		<section>
			<h1>Page not found</h1>
			<p>
				There is no page at this address. <Link href="/runs">Go to your runs</Link>.
			</p>
		</section>
	);
}
