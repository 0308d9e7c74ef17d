"""Lists the Ray Data adapter through the ncdiff hooks."""

from ncdiff_plugin import hookimpl


@hookimpl
def register_adapters(register):
    register("ray", "the codec as a Ray Data stage: ray_ncd.NCDEncoder / NCDDecoder for Dataset.map_batches "
                    "(ncdiff[ray])", "ray_ncd")
