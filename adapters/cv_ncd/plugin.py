"""Lists the OpenCV adapter through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("opencv", "cv_ncd.encode / cv_ncd.decode on BGR arrays", "cv_ncd")
