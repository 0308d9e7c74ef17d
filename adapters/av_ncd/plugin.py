"""Lists the PyAV adapter through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("pyav", "video keyframes to and from multi-frame .ncd (planned: ncd video)", "av_ncd")
