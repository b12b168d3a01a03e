# Sourced by the before/after bench scripts (migration-compare, raft-before-after, replica-start) after they `cd` to the
# repository root and create WORK_DIR: checks out a base commit beside the working tree and builds it there, so one run
# measures base and current alternately.

# base_build REF PROJECT [PATH ...]: REF's tree (git archive, no checkout of the working tree) in a fresh
# $WORK_DIR/base-src, PROJECT (a path inside the repository, e.g. src/LsmRaft.Host) built there in Release; the build's
# output in $WORK_DIR/base-build.log. Sets base_src (that directory), base_commit (REF's short id) and current_commit
# (HEAD's short id, with "+changes" when the working tree differs from HEAD under one of the PATHs: what the script
# builds as "current"). Returns 1 with a message naming the problem when REF is not a commit or the build fails.
base_build() {
  local ref=$1 project=$2
  shift 2
  git rev-parse --verify --quiet "$ref^{commit}" >/dev/null || { echo "BASE_REF '$ref' is not a commit of this repository" >&2; return 1; }
  base_src="$WORK_DIR/base-src"
  rm -rf "$base_src"; mkdir -p "$base_src"
  git archive "$ref" | tar -x -C "$base_src"
  base_commit=$(git rev-parse --short "$ref"); current_commit=$(git rev-parse --short HEAD)
  if [ $# -gt 0 ] && [ -n "$(git status --porcelain -- "$@")" ]; then current_commit+="+changes"; fi
  echo "building base $base_commit ($project) and current $current_commit" >&2
  dotnet build -c Release "$base_src/$project" >"$WORK_DIR/base-build.log" 2>&1 \
    || { echo "building $project at $base_commit failed; see $WORK_DIR/base-build.log" >&2; return 1; }
}
