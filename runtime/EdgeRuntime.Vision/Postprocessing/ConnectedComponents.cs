using System.Runtime.CompilerServices;

namespace EdgeRuntime.Vision.Postprocessing;

/// <summary>
/// Two-pass connected-component labelling of a class map with union-find, 8-connectivity: neighbouring pixels
/// belong to one component when they have the same non-zero class. All classes are labelled in one pass, so a
/// scratch and a blob touching each other stay two defects. Works on caller-provided (pooled) buffers.
/// </summary>
/// <remarks>
/// Chosen over <c>Cv2.ConnectedComponentsWithStats</c>, which labels one binary mask per call (K-1 passes plus a
/// mask build per class) and needs Mat headers over the pooled buffers; the scan here visits each pixel once and
/// only the few neighbours that a raster scan has already labelled (a decision tree: north first, since a matching
/// north neighbour already joins west, north-west and north-east).
/// </remarks>
internal static class ConnectedComponents
{
    /// <summary>
    /// First pass: gives every non-zero pixel a provisional label and records label equivalences in
    /// <paramref name="parent"/>. Returns one more than the highest provisional label.
    /// </summary>
    /// <remarks>
    /// <paramref name="labels"/> receives a provisional label for every non-zero pixel (background entries are left
    /// as they were and must not be read), width * height entries;
    /// <paramref name="parent"/> is the union-find forest, at least width * height + 1 entries.
    /// </remarks>
    public static int LabelProvisional(ReadOnlySpan<byte> classMap, int width, int height, Span<int> labels, Span<int> parent)
    {
        int next = 1;
        for (int y = 0; y < height; y++)
        {
            int row = y * width;
            int above = row - width;
            ReadOnlySpan<byte> line = classMap.Slice(row, width);
            for (int x = 0; x < width; x++)
            {
                // Defects are sparse: jump over good pixels with a vectorised search.
                int skip = line[x..].IndexOfAnyExcept((byte)0);
                if (skip < 0)
                {
                    break;
                }

                x += skip;
                int i = row + x;
                byte c = line[x];

                if (y > 0 && classMap[above + x] == c)
                {
                    labels[i] = labels[above + x];
                    continue;
                }

                bool northEast = y > 0 && x < width - 1 && classMap[above + x + 1] == c;
                int label;
                if (x > 0 && classMap[i - 1] == c)
                {
                    label = labels[i - 1];
                    if (northEast)
                    {
                        label = Union(parent, label, labels[above + x + 1]);
                    }
                }
                else if (y > 0 && x > 0 && classMap[above + x - 1] == c)
                {
                    label = labels[above + x - 1];
                    if (northEast)
                    {
                        label = Union(parent, label, labels[above + x + 1]);
                    }
                }
                else if (northEast)
                {
                    label = labels[above + x + 1];
                }
                else
                {
                    label = next++;
                    parent[label] = label;
                }

                labels[i] = label;
            }
        }

        return next;
    }

    /// <summary>
    /// Second step: replaces each provisional label's entry in <paramref name="parent"/> with its component's
    /// final id (1..count, in raster order of each component's first pixel). Returns the component count.
    /// </summary>
    public static int Resolve(Span<int> parent, int next)
    {
        int count = 0;
        for (int label = 1; label < next; label++)
        {
            // Roots are the smallest label of their set, so a parent always precedes its child and is resolved already.
            int p = parent[label];
            parent[label] = p == label ? ++count : parent[p];
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Find(Span<int> parent, int label)
    {
        while (parent[label] != label)
        {
            // Path halving keeps the trees flat without a second walk.
            parent[label] = parent[parent[label]];
            label = parent[label];
        }

        return label;
    }

    private static int Union(Span<int> parent, int a, int b)
    {
        int rootA = Find(parent, a);
        int rootB = Find(parent, b);
        if (rootA == rootB)
        {
            return rootA;
        }

        if (rootA < rootB)
        {
            parent[rootB] = rootA;
            return rootA;
        }

        parent[rootA] = rootB;
        return rootB;
    }
}
