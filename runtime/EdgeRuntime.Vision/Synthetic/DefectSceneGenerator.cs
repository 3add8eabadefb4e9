using OpenCvSharp;

namespace EdgeRuntime.Vision.Synthetic;

/// <summary>
/// Renders synthetic inspection scenes: a surface (brushed metal, circuit board, textile) under an illumination
/// gradient and sensor noise, with zero or more painted defects, and the class mask of exactly the pixels the
/// defects changed (0 good, 1 linear, 2 blob).
/// </summary>
/// <remarks>
/// Deterministic: the same options and scene index give identical pixels (on the same platform; the
/// transcendental functions of another CPU architecture may round a rare pixel differently).
/// Not thread-safe: the generator owns working buffers, so use one instance per thread.
/// The instance owns a native drawing buffer and must be disposed.
/// </remarks>
public sealed class DefectSceneGenerator : IDisposable
{
    private const int Channels = 3;

    private readonly int _width;
    private readonly int _height;
    private readonly long _seed;
    private readonly double _defectFreeProbability;
    private readonly int _maxDefects;

    // BGR working image in floating point so defects, gradient and noise compose without intermediate clipping.
    private readonly float[] _pixels;

    // Drawing layer for OpenCV primitives (PCB copper, one defect at a time); reused for every scene.
    private readonly Mat _layer;
    private readonly float[] _streakLines;
    private readonly float[] _streakSegments;
    private readonly int _diagonal;
    private readonly int _segmentsPerLine;
    private readonly List<Point> _path = new(256);
    private readonly List<Point> _branch = new(128);

    /// <summary>Creates a generator; <paramref name="options"/> are validated and copied.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public DefectSceneGenerator(DefectSceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _width = options.Width;
        _height = options.Height;
        _seed = options.Seed;
        _defectFreeProbability = options.DefectFreeProbability;
        _maxDefects = options.MaxDefectsPerScene;
        _pixels = new float[_width * _height * Channels];
        _layer = new Mat(_height, _width, MatType.CV_8UC1, Scalar.All(0));
        _diagonal = (int)Math.Ceiling(Math.Sqrt((double)_width * _width + (double)_height * _height)) + 2;
        _segmentsPerLine = (_diagonal / StreakSegmentLength) + 2;
        _streakLines = new float[_diagonal];
        _streakSegments = new float[_diagonal * _segmentsPerLine];
    }

    private const int StreakSegmentLength = 24;

    /// <summary>Scene width in pixels.</summary>
    public int Width => _width;

    /// <summary>Scene height in pixels.</summary>
    public int Height => _height;

    /// <summary>
    /// Renders scene <paramref name="index"/> into caller-owned buffers. <paramref name="image"/> becomes 8UC3 BGR
    /// and <paramref name="mask"/> 8UC1 class indices, both <see cref="Width"/> x <see cref="Height"/>; they are
    /// reallocated only when their size or type differs, so a frame source can reuse them. When
    /// <paramref name="instances"/> is given, it is cleared and receives one entry per painted defect.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is a non-continuous view (a region of another Mat).</exception>
    public SceneSummary Render(long index, Mat image, Mat mask, ICollection<DefectInstance>? instances = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(mask);
        image.Create(_height, _width, MatType.CV_8UC3);
        mask.Create(_height, _width, MatType.CV_8UC1);
        if (!image.IsContinuous() || !mask.IsContinuous())
        {
            throw new ArgumentException("Scene buffers must be continuous Mats, not regions of a larger Mat.", nameof(image));
        }

        instances?.Clear();
        // Surface, defects and imaging draw from separate streams: the same scene with or without its defects
        // differs in exactly the defect pixels, which is what the mask claims.
        SceneRandom rng = new(_seed, index, 0);
        SceneRandom defectRng = new(_seed, index, 1);
        SceneRandom imagingRng = new(_seed, index, 2);
        Span<byte> maskBytes = mask.AsSpan<byte>();
        maskBytes.Clear();

        SurfaceKind surface = (SurfaceKind)rng.Int(0, 2);
        switch (surface)
        {
            case SurfaceKind.BrushedMetal:
                PaintBrushedMetal(ref rng);
                break;
            case SurfaceKind.CircuitBoard:
                PaintCircuitBoard(ref rng);
                break;
            default:
                PaintTextile(ref rng);
                break;
        }

        int defects = 0;
        if (!defectRng.Chance(_defectFreeProbability))
        {
            double roll = defectRng.NextDouble();
            int wanted = Math.Min(_maxDefects, roll < 0.6 ? 1 : roll < 0.9 ? 2 : 3);
            for (int i = 0; i < wanted; i++)
            {
                DefectKind kind = PickKind(ref defectRng);
                if (PaintDefect(kind, ref defectRng, maskBytes, out Rect bounds))
                {
                    defects++;
                    instances?.Add(new DefectInstance(kind, kind.ClassIndex(), bounds));
                }
            }
        }

        ApplyIlluminationAndNoise(ref imagingRng, image.AsSpan<byte>());
        return new SceneSummary(surface, defects);
    }

    /// <inheritdoc />
    public void Dispose() => _layer.Dispose();

    private static DefectKind PickKind(ref SceneRandom rng)
    {
        double roll = rng.NextDouble();
        return roll switch
        {
            < 0.25 => DefectKind.Scratch,
            < 0.42 => DefectKind.Crack,
            < 0.62 => DefectKind.Spot,
            < 0.80 => DefectKind.Stain,
            _ => DefectKind.Pit,
        };
    }

    private void PaintBrushedMetal(ref SceneRandom rng)
    {
        double grey = rng.Range(105, 185);
        float tb = (float)(grey * rng.Range(0.97, 1.05));
        float tg = (float)grey;
        float tr = (float)(grey * rng.Range(0.96, 1.03));
        double angle = rng.Range(0, Math.PI);
        float cos = (float)Math.Cos(angle);
        float sin = (float)Math.Sin(angle);
        float fine = (float)rng.Range(4, 9);
        float coarse = (float)rng.Range(3, 8);

        // Fine streaks: lightly smoothed noise across the polishing direction; coarse: varies slowly along it.
        float previous = 0;
        for (int p = 0; p < _diagonal; p++)
        {
            float g = (float)rng.Gaussian();
            _streakLines[p] = (0.6f * g) + (0.4f * previous);
            previous = g;
        }

        for (int i = 0; i < _streakSegments.Length; i++)
        {
            _streakSegments[i] = (float)rng.Gaussian();
        }

        float half = _diagonal / 2f;
        float cx = _width / 2f;
        float cy = _height / 2f;
        for (int y = 0; y < _height; y++)
        {
            for (int x = 0; x < _width; x++)
            {
                float dx = x - cx;
                float dy = y - cy;
                int p = Math.Clamp((int)((-dx * sin) + (dy * cos) + half), 0, _diagonal - 1);
                float q = Math.Clamp(((dx * cos) + (dy * sin) + half) / StreakSegmentLength, 0, _segmentsPerLine - 1.001f);
                int q0 = (int)q;
                float t = q - q0;
                int row = p * _segmentsPerLine;
                float along = (_streakSegments[row + q0] * (1 - t)) + (_streakSegments[row + q0 + 1] * t);
                float v = (fine * _streakLines[p]) + (coarse * along);
                int o = ((y * _width) + x) * Channels;
                _pixels[o] = tb + v;
                _pixels[o + 1] = tg + v;
                _pixels[o + 2] = tr + v;
            }
        }
    }

    private void PaintCircuitBoard(ref SceneRandom rng)
    {
        // Layer values: 1 exposed copper, 2 copper under solder mask (lighter green), 3 drilled via hole.
        const byte exposed = 1, covered = 2, hole = 3;
        _layer.SetTo(Scalar.All(0));
        float mb = (float)rng.Range(30, 70), mg = (float)rng.Range(105, 150), mr = (float)rng.Range(25, 60);
        bool tinned = rng.Chance(0.3);
        float cb = tinned ? (float)rng.Range(170, 200) : (float)rng.Range(60, 95);
        float cg = tinned ? cb + 5 : (float)rng.Range(125, 165);
        float cr = tinned ? cb + 8 : (float)rng.Range(185, 230);

        int traces = rng.Int(4, 10);
        for (int i = 0; i < traces; i++)
        {
            _path.Clear();
            Point at = new(rng.Int(0, _width - 1), rng.Int(0, _height - 1));
            _path.Add(at);
            int segments = rng.Int(2, 4);
            for (int s = 0; s < segments; s++)
            {
                // Board routing runs at multiples of 45 degrees.
                double heading = rng.Int(0, 7) * Math.PI / 4;
                double length = rng.Range(20, 120);
                at = new Point(at.X + (int)Math.Round(Math.Cos(heading) * length), at.Y + (int)Math.Round(Math.Sin(heading) * length));
                _path.Add(at);
            }

            byte value = rng.Chance(0.5) ? covered : exposed;
            Cv2.Polylines(_layer, [_path], false, Scalar.All(value), rng.Int(3, 7), LineTypes.Link8);
            if (value == exposed)
            {
                int pad = rng.Int(4, 7);
                Cv2.Rectangle(_layer, new Rect(at.X - pad, at.Y - pad, 2 * pad, 2 * pad), Scalar.All(exposed), -1, LineTypes.Link8);
            }
        }

        int pads = rng.Int(2, 8);
        for (int i = 0; i < pads; i++)
        {
            int w = rng.Int(6, 16), h = rng.Int(6, 16);
            Cv2.Rectangle(_layer, new Rect(rng.Int(0, _width - 1), rng.Int(0, _height - 1), w, h), Scalar.All(exposed), -1, LineTypes.Link8);
        }

        int vias = rng.Int(2, 8);
        for (int i = 0; i < vias; i++)
        {
            Point centre = new(rng.Int(0, _width - 1), rng.Int(0, _height - 1));
            int ring = rng.Int(4, 6);
            Cv2.Circle(_layer, centre, ring, Scalar.All(exposed), -1, LineTypes.Link8);
            Cv2.Circle(_layer, centre, ring - 2, Scalar.All(hole), -1, LineTypes.Link8);
        }

        ReadOnlySpan<byte> layer = _layer.AsSpan<byte>();
        for (int i = 0; i < layer.Length; i++)
        {
            int o = i * Channels;
            switch (layer[i])
            {
                case exposed:
                    _pixels[o] = cb;
                    _pixels[o + 1] = cg;
                    _pixels[o + 2] = cr;
                    break;
                case covered:
                    _pixels[o] = mb * 1.25f;
                    _pixels[o + 1] = mg * 1.22f;
                    _pixels[o + 2] = mr * 1.3f;
                    break;
                case hole:
                    _pixels[o] = 28;
                    _pixels[o + 1] = 30;
                    _pixels[o + 2] = 30;
                    break;
                default:
                    _pixels[o] = mb;
                    _pixels[o + 1] = mg;
                    _pixels[o + 2] = mr;
                    break;
            }
        }
    }

    private void PaintTextile(ref SceneRandom rng)
    {
        Span<float> warp = stackalloc float[Channels];
        Span<float> weft = stackalloc float[Channels];
        double sum = 0;
        for (int c = 0; c < Channels; c++)
        {
            warp[c] = (float)rng.Range(40, 230);
            sum += warp[c];
        }

        // Keep the mean brightness in a range where both darker and brighter defects remain visible.
        float scale = (float)(rng.Range(95, 185) / (sum / Channels));
        bool contrasting = rng.Chance(0.3);
        for (int c = 0; c < Channels; c++)
        {
            warp[c] = Math.Min(235, warp[c] * scale);
            weft[c] = contrasting ? (float)rng.Range(70, 210) : warp[c] * (float)rng.Range(0.85, 1.0);
        }

        int period = rng.Int(4, 9);
        bool twill = rng.Chance(0.4);
        double angle = rng.Range(-0.15, 0.15);
        float cos = (float)Math.Cos(angle);
        float sin = (float)Math.Sin(angle);
        float depth = (float)rng.Range(0.15, 0.25);
        for (int y = 0; y < _height; y++)
        {
            for (int x = 0; x < _width; x++)
            {
                float u = (x * cos) + (y * sin) + 1000;
                float v = (-x * sin) + (y * cos) + 1000;
                int i = (int)(u / period);
                int j = (int)(v / period);
                bool warpOnTop = twill ? (i + j) % 3 == 0 : ((i + j) & 1) == 0;

                // A thread is brightest along its centre line and shaded towards its edges.
                float across = warpOnTop ? (u - (i * period)) / period : (v - (j * period)) / period;
                float shade = 1 - depth + (depth * MathF.Sin(MathF.PI * across));
                Span<float> colour = warpOnTop ? warp : weft;
                int o = ((y * _width) + x) * Channels;
                _pixels[o] = colour[0] * shade;
                _pixels[o + 1] = colour[1] * shade;
                _pixels[o + 2] = colour[2] * shade;
            }
        }
    }

    private bool PaintDefect(DefectKind kind, ref SceneRandom rng, Span<byte> mask, out Rect bounds)
    {
        _layer.SetTo(Scalar.All(0));
        bool bright = false;
        double strength;
        Span<float> tint = [1f, 1f, 1f];
        switch (kind)
        {
            case DefectKind.Scratch:
                DrawScratch(ref rng);
                bright = rng.Chance(0.25);
                strength = rng.Range(0.38, 0.65);
                break;
            case DefectKind.Crack:
                DrawCrack(ref rng);
                strength = rng.Range(0.45, 0.7);
                break;
            case DefectKind.Spot:
                DrawBlobOutline(ref rng, rng.Range(4, 20), 255, 1.0);
                bright = rng.Chance(0.3);
                strength = rng.Range(0.35, 0.6);
                break;
            case DefectKind.Stain:
                {
                    double radius = rng.Range(6, 20);
                    Point centre = DrawBlobOutline(ref rng, radius, 230, 1.0);

                    // Dried liquid leaves a darker rim than its centre.
                    DrawBlobAt(ref rng, centre, radius * 0.65, 160);
                    strength = rng.Range(0.4, 0.65);
                    tint[0] = 1.0f;
                    tint[1] = (float)rng.Range(0.7, 0.95);
                    tint[2] = (float)rng.Range(0.5, 0.85);
                    break;
                }

            default:
                DrawPits(ref rng);
                bright = rng.Chance(0.1);
                strength = rng.Range(0.5, 0.75);
                break;
        }

        return ApplyLayer(kind.ClassIndex(), bright, (float)strength, tint, mask, out bounds);
    }

    private Point RandomCentre(ref SceneRandom rng, int margin)
    {
        margin = Math.Min(margin, Math.Min(_width, _height) / 4);
        return new Point(rng.Int(margin, _width - 1 - margin), rng.Int(margin, _height - 1 - margin));
    }

    private void DrawScratch(ref SceneRandom rng)
    {
        double length = rng.Range(0.05, 0.40) * _width;
        int thickness = rng.Chance(0.5) ? rng.Int(1, 2) : rng.Int(2, 4);
        Point centre = RandomCentre(ref rng, 8);
        double heading = rng.Range(0, Math.PI * 2);
        double dx = Math.Cos(heading), dy = Math.Sin(heading);
        double bend = rng.Range(-0.25, 0.25) * length;
        double sx = centre.X - (dx * length / 2), sy = centre.Y - (dy * length / 2);
        double ex = centre.X + (dx * length / 2), ey = centre.Y + (dy * length / 2);
        double kx = centre.X - (dy * bend), ky = centre.Y + (dx * bend);
        int steps = Math.Max(4, (int)(length / 4));
        _path.Clear();
        for (int i = 0; i <= steps; i++)
        {
            // Quadratic Bezier: a gently curved stroke, as a tool dragged across the part leaves.
            double t = (double)i / steps, a = (1 - t) * (1 - t), b = 2 * (1 - t) * t, c = t * t;
            _path.Add(new Point((int)Math.Round((a * sx) + (b * kx) + (c * ex)), (int)Math.Round((a * sy) + (b * ky) + (c * ey))));
        }

        Cv2.Polylines(_layer, [_path], false, Scalar.All(255), thickness, LineTypes.Link8);
    }

    private void DrawCrack(ref SceneRandom rng)
    {
        Point start = RandomCentre(ref rng, 16);
        double heading = rng.Range(0, Math.PI * 2);
        double length = rng.Range(0.12, 0.4) * _width;
        int thickness = rng.Int(1, 2);
        Walk(ref rng, _path, start, heading, length);
        Cv2.Polylines(_layer, [_path], false, Scalar.All(255), thickness, LineTypes.Link8);
        int branches = rng.Int(1, 3);
        for (int b = 0; b < branches; b++)
        {
            Point from = _path[rng.Int(1, _path.Count - 1)];
            double turn = rng.Range(0.5, 1.2) * (rng.Chance(0.5) ? 1 : -1);
            Walk(ref rng, _branch, from, heading + turn, length * rng.Range(0.25, 0.6));
            Cv2.Polylines(_layer, [_branch], false, Scalar.All(255), 1, LineTypes.Link8);
        }
    }

    private static void Walk(ref SceneRandom rng, List<Point> path, Point start, double heading, double length)
    {
        path.Clear();
        path.Add(start);
        double x = start.X, y = start.Y, walked = 0;
        while (walked < length)
        {
            // Jagged: each step turns by a random angle around the crack's overall direction.
            double step = rng.Range(3, 6);
            double direction = heading + (rng.Gaussian() * 0.45);
            x += Math.Cos(direction) * step;
            y += Math.Sin(direction) * step;
            walked += step;
            path.Add(new Point((int)Math.Round(x), (int)Math.Round(y)));
        }
    }

    private Point DrawBlobOutline(ref SceneRandom rng, double radius, byte value, double scale)
    {
        Point centre = RandomCentre(ref rng, (int)radius);
        DrawBlobAt(ref rng, centre, radius * scale, value);
        return centre;
    }

    private void DrawBlobAt(ref SceneRandom rng, Point centre, double radius, byte value)
    {
        _path.Clear();
        double a1 = rng.Range(0, 0.22), a2 = rng.Range(0, 0.15), a3 = rng.Range(0, 0.1);
        double p1 = rng.Range(0, 6.3), p2 = rng.Range(0, 6.3), p3 = rng.Range(0, 6.3);
        const int vertices = 18;
        for (int i = 0; i < vertices; i++)
        {
            double theta = 2 * Math.PI * i / vertices;
            double r = radius * (1 + (a1 * Math.Sin(theta + p1)) + (a2 * Math.Sin((2 * theta) + p2)) + (a3 * Math.Sin((3 * theta) + p3)) + rng.Range(-0.08, 0.08));
            _path.Add(new Point((int)Math.Round(centre.X + (r * Math.Cos(theta))), (int)Math.Round(centre.Y + (r * Math.Sin(theta)))));
        }

        Cv2.FillPoly(_layer, [_path], Scalar.All(value), LineTypes.Link8);
    }

    private void DrawPits(ref SceneRandom rng)
    {
        Point centre = RandomCentre(ref rng, 14);
        int count = rng.Int(1, 4);
        for (int i = 0; i < count; i++)
        {
            Point at = i == 0 ? centre : new Point(centre.X + rng.Int(-10, 10), centre.Y + rng.Int(-10, 10));
            Cv2.Circle(_layer, at, rng.Int(2, 4), Scalar.All(255), -1, LineTypes.Link8);
        }
    }

    private bool ApplyLayer(byte classIndex, bool bright, float strength, ReadOnlySpan<float> tint, Span<byte> mask, out Rect bounds)
    {
        ReadOnlySpan<byte> layer = _layer.AsSpan<byte>();
        int minX = int.MaxValue, minY = int.MaxValue, maxX = -1, maxY = -1;
        for (int y = 0; y < _height; y++)
        {
            int row = y * _width;
            for (int x = 0; x < _width; x++)
            {
                byte a = layer[row + x];
                if (a == 0)
                {
                    continue;
                }

                float f = strength * a / 255f;
                int o = (row + x) * Channels;
                for (int c = 0; c < Channels; c++)
                {
                    float v = _pixels[o + c];

                    // The floor on the change keeps every labelled pixel visibly different from its surroundings.
                    _pixels[o + c] = bright
                        ? Math.Min(255f, v + Math.Max(f * (255f - v), 40f * a / 255f))
                        : v - Math.Max(v * f * tint[c], 25f * a / 255f * tint[c]);
                }

                mask[row + x] = classIndex;
                minX = Math.Min(minX, x);
                maxX = Math.Max(maxX, x);
                minY = Math.Min(minY, y);
                maxY = Math.Max(maxY, y);
            }
        }

        bounds = maxX < 0 ? default : new Rect(minX, minY, maxX - minX + 1, maxY - minY + 1);
        return maxX >= 0;
    }

    private void ApplyIlluminationAndNoise(ref SceneRandom rng, Span<byte> image)
    {
        double amplitude = rng.Range(0, 0.25);
        double angle = rng.Range(0, Math.PI * 2);
        float gx = (float)(amplitude * Math.Cos(angle) / (0.5 * _diagonal));
        float gy = (float)(amplitude * Math.Sin(angle) / (0.5 * _diagonal));
        float vignette = (float)rng.Range(0, 0.08);
        float cx = _width / 2f, cy = _height / 2f;
        float r2max = (cx * cx) + (cy * cy);
        double sigma = rng.Range(2, 7);
        for (int y = 0; y < _height; y++)
        {
            for (int x = 0; x < _width; x++)
            {
                float dx = x - cx, dy = y - cy;
                float gain = (1 + (gx * dx) + (gy * dy)) * (1 - (vignette * ((dx * dx) + (dy * dy)) / r2max));
                int o = ((y * _width) + x) * Channels;
                for (int c = 0; c < Channels; c++)
                {
                    double v = (_pixels[o + c] * gain) + (sigma * rng.Gaussian());
                    image[o + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            }
        }
    }
}
