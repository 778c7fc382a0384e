import { AppError } from "../common/index.js";

/**
 * A file system error met while writing `name` (a path relative to where files go), as the error a
 * user can act on: a name too long or a file where a folder must be is bad input (400), a folder where
 * a file must be a conflict (409). Any other error is returned as it is.
 */
export function fileErrorOf(error: unknown, name: string): unknown {
	const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
	switch ((error as NodeJS.ErrnoException).code) {
		case "ENAMETOOLONG":
			return new AppError(
				"validation_failed",
				`'${shown}' is too long: a file or folder name may have at most 255 bytes; choose a shorter name`,
				{ cause: error },
			);
		case "ENOTDIR":
		case "EEXIST":
			return new AppError(
				"validation_failed",
				`a folder on the way to '${shown}' is a file; choose another path, or move or delete that file first`,
				{ cause: error },
			);
		case "EISDIR":
			return new AppError("conflict", `'${shown}' is a folder; choose another name, or delete the folder first`, {
				cause: error,
			});
		default:
			return error;
	}
}
