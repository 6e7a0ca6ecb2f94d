# Sourced by scripts/optimise and scripts/test (POSIX sh): make sure .venv, the clone's own
# virtual environment, exists and holds this project (with the extras asked for), made with
# the machine's python3 but never installing into it (Debian and Ubuntu refuse that: PEP 668).
#
#   ensure_venv ""      the project
#   ensure_venv test    the project and its test tools
#
# It installs again only when pyproject.toml has changed since the last install.
# PYTHON=/path/to/python3.12 chooses another Python to make it with.

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"

say() { printf '%s\n' "$*" >&2; }

ensure_venv() {
    extras=$1
    stamp="$venv/.optimise-installed${extras:+-$extras}"
    wanted=$(cksum < "$root/pyproject.toml")
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    if ! "$venv/bin/python" -c 'import pip' >/dev/null 2>&1; then
        make_venv
    fi
    say "Installing optimise${extras:+ with its $extras extras} into $venv (first run only; a minute or two)..."
    target="$root${extras:+[$extras]}"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$target"; then
        say "optimise: installing into $venv failed (see pip's message above); check the"
        say "network connection to the Python Package Index and run the command again."
        exit 1
    fi
    printf '%s\n' "$wanted" > "$stamp"
    if [ -n "$extras" ]; then
        printf '%s\n' "$wanted" > "$venv/.optimise-installed"  # the extras include the project
    fi
}

make_venv() {
    python=${PYTHON:-python3}
    if ! command -v "$python" >/dev/null 2>&1; then
        say "optimise: needs Python 3.11 or newer as '$python'; on Debian or Ubuntu:"
        say "    sudo apt-get install python3 python3-venv"
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        say "optimise: needs Python 3.11 or newer; '$python' is $("$python" -c 'import platform; print(platform.python_version())')."
        say "Install a newer one and run again with it, e.g. PYTHON=python3.11 sh scripts/optimise ..."
        exit 1
    fi
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        say "optimise: '$python' cannot make a virtual environment: Debian and Ubuntu ship that"
        say "part of Python separately. Install it, then run the same command again:"
        say "    sudo apt-get install python3-venv"
        exit 1
    fi
    if [ -e "$venv" ]; then
        say "Replacing $venv (it has no working Python: an earlier set-up stopped half-way)."
        rm -rf "$venv"
    fi
    say "Making a virtual environment for optimise in $venv (once)..."
    if ! "$python" -m venv "$venv"; then
        rm -rf "$venv"
        say "optimise: '$python -m venv' failed (see above); on Debian or Ubuntu install"
        say "python3-venv (sudo apt-get install python3-venv) and run the command again."
        exit 1
    fi
}
