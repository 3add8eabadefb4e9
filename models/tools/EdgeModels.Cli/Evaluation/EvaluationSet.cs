using EdgeRuntime.Vision.Imaging;

namespace EdgeModels.Cli.Evaluation;

/// <summary>An image and its truth mask (one class index per pixel).</summary>
internal sealed record LabelledImage(string Image, string Mask);

/// <summary>Pairs the images of a folder with their masks, as <c>edge-models generate</c> writes them (images/, masks/).</summary>
internal static class EvaluationSet
{
    /// <summary>
    /// The images of <paramref name="imagesDirectory"/> (PNG, JPEG, BMP; not recursive) in ordinal name order, the
    /// first <paramref name="limit"/> when given, each with the mask of the same file name in
    /// <paramref name="masksDirectory"/> (or, for a JPEG or BMP image, the PNG of the same stem, since a mask must be
    /// lossless). Every problem (a missing folder, no images, an image without a mask) is added to
    /// <paramref name="problems"/>; the pairs are only usable when it stays empty.
    /// </summary>
    public static IReadOnlyList<LabelledImage> Find(string imagesDirectory, string masksDirectory, int? limit, ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (!Directory.Exists(imagesDirectory))
        {
            problems.Add($"--images {imagesDirectory} is not a folder");
        }

        if (!Directory.Exists(masksDirectory))
        {
            problems.Add($"--masks {masksDirectory} is not a folder");
        }

        if (problems.Count > 0)
        {
            return [];
        }

        List<string> images = [.. ImageFolder.List(imagesDirectory)];
        if (images.Count == 0)
        {
            problems.Add($"--images {imagesDirectory} holds no PNG, JPEG or BMP images");
            return [];
        }

        if (limit is int count && count < images.Count)
        {
            images.RemoveRange(count, images.Count - count);
        }

        var pairs = new List<LabelledImage>(images.Count);
        foreach (string image in images)
        {
            string name = Path.GetFileName(image);
            string mask = Path.Combine(masksDirectory, name);
            string png = Path.Combine(masksDirectory, Path.ChangeExtension(name, ".png"));
            if (File.Exists(mask))
            {
                pairs.Add(new LabelledImage(image, mask));
            }
            else if (File.Exists(png))
            {
                pairs.Add(new LabelledImage(image, png));
            }
            else
            {
                problems.Add(string.Equals(mask, png, StringComparison.Ordinal)
                    ? $"image {image} has no mask: {mask} does not exist"
                    : $"image {image} has no mask: neither {mask} nor {png} exists");
            }
        }

        return pairs;
    }
}
