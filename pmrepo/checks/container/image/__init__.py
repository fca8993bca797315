"""The local image the container install test runs in when no CentOS image can be pulled."""

from .testroot import ImageBuildError, ImageInfo, ImageRecipe, ensure_image, image_is_current

__all__ = ["ImageBuildError", "ImageInfo", "ImageRecipe", "ensure_image", "image_is_current"]
