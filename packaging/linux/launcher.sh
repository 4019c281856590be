#!/bin/sh
# /usr/bin/layerlab: runs the bundle in /opt/layerlab. The path is found from this script's
# own place (../../opt/layerlab), so a package unpacked into another root (dpkg -x, a
# test) runs its own bundle, not an installed one.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../../opt/layerlab/layerlab" "$@"
