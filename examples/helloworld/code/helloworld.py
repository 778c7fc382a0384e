"""Greets every name of an input file, pausing between names, and writes the greetings to a file."""

import argparse
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description="Hello world analysis")
    parser.add_argument("--inputfile", required=True, help="file with one name per line")
    parser.add_argument("--outputfile", required=True, help="where to write the greetings")
    parser.add_argument("--sleeptime", type=float, default=0.0, help="seconds to pause per name")
    args = parser.parse_args()

    with open(args.inputfile, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        print(f"no names in {args.inputfile}", file=sys.stderr)
        return 1

    os.makedirs(os.path.dirname(args.outputfile) or ".", exist_ok=True)
    with open(args.outputfile, "w", encoding="utf-8") as out:
        for i, name in enumerate(names, 1):
            greeting = f"Hello {name}!"
            out.write(greeting + "\n")
            print(f"[{i}/{len(names)}] {greeting}", flush=True)
            time.sleep(args.sleeptime)
    print(f"wrote {len(names)} greetings to {args.outputfile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
