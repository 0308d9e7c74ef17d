"""Lists the Pillow adapter through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("pillow", "Image.open / Image.save for .ncd (format NCD)", "pil_ncd")
