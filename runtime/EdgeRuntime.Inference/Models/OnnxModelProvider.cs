using System.Globalization;
using EdgeRuntime.Core.Pipeline;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Golden;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.ModelPackages;
using EdgeRuntime.ModelPackages.Signing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Inference.Models;

/// <summary>
/// The serving model and its replacement. A load verifies the package (manifest, SHA-256 of the model and golden
/// images, signature when configured), checks the graph against the manifest, creates the session through the
/// provider chain, runs a warm-up inference and judges the package's golden samples, all beside the serving model
/// (reported as step i of <see cref="ModelLoadSteps.Count"/>); only then does it switch atomically. The old session is
/// disposed when the last frame that leased it releases it. A package that fails anywhere leaves the serving model
/// untouched and says why. <see cref="CheckGoldenSamplesAsync"/> judges the serving model's golden samples again while
/// it serves; a disagreement turns the state <see cref="ModelPhase.Degraded"/>.
/// </summary>
/// <remarks>
/// <see cref="Acquire"/> and <see cref="Release"/> are thread-safe and allocation-free; loads are serialised (one
/// at a time), and so are golden checks. The provider owns every session it creates; dispose it after the pipeline has
/// stopped.
/// </remarks>
public sealed partial class OnnxModelProvider : IModelProvider, IDisposable
{
    private readonly ModelOptions _modelOptions;
    private readonly InferenceOptions _inferenceOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ModelLoader _loader;
    private readonly GoldenSampleCheck? _golden;
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private readonly SemaphoreSlim _goldenGate = new(1, 1);
    private readonly Lock _stateGate = new();
    private OnnxInferenceSession? _active;
    private long _readySince;
    private LoadInProgress? _load;
    private string? _lastFailure;
    private long _failedSince;
    private GoldenCheckReport? _goldenReport;
    private bool _disposed;

    /// <param name="modelOptions">The package to load at start-up and how packages are trusted.</param>
    /// <param name="inferenceOptions">How ONNX Runtime runs models.</param>
    /// <param name="pipelineOptions">Where state (engine caches) lives.</param>
    /// <param name="probe">What the device's accelerators are.</param>
    /// <param name="timeProvider">Clock for state and reports.</param>
    /// <param name="logger">Log.</param>
    /// <param name="golden">Judges golden samples; null = packages' golden samples are not checked (logged at each load that has some).</param>
    public OnnxModelProvider(
        IOptions<ModelOptions> modelOptions,
        IOptions<InferenceOptions> inferenceOptions,
        IOptions<PipelineOptions> pipelineOptions,
        IAcceleratorProbe probe,
        TimeProvider timeProvider,
        ILogger<OnnxModelProvider> logger,
        GoldenSampleCheck? golden = null)
    {
        ArgumentNullException.ThrowIfNull(modelOptions);
        ArgumentNullException.ThrowIfNull(inferenceOptions);
        ArgumentNullException.ThrowIfNull(pipelineOptions);
        _modelOptions = modelOptions.Value;
        _inferenceOptions = inferenceOptions.Value;
        _time = timeProvider;
        _logger = logger;
        _golden = golden;
        string stateDirectory = Path.GetFullPath(pipelineOptions.Value.StateDirectory);
        _loader = new ModelLoader(_inferenceOptions, stateDirectory, probe, new ProviderChain(logger));
    }

    /// <summary>A snapshot for health and status.</summary>
    public ModelProviderState State
    {
        get
        {
            lock (_stateGate)
            {
                long now = _time.GetTimestamp();
                ModelLoadProgress? load = _load is { } l
                    ? new ModelLoadProgress(l.Package, l.Phase, l.Message, _time.GetElapsedTime(l.Started, now), l.Step, ModelLoadSteps.Count, l.StepName)
                    : null;
                if (_active is { } active)
                {
                    string serving = $"{active.Identity.Id} {active.Identity.Version} serving on {active.Providers}";
                    bool degraded = _goldenReport is { Passed: false };
                    if (degraded)
                    {
                        serving += $"; DEGRADED: its golden check at {_goldenReport!.CheckedUtc:u} failed: {_goldenReport}";
                    }

                    if (load is not null)
                    {
                        // A swap beside the serving model: an operator sees it progress without the model leaving service.
                        serving += string.Create(CultureInfo.InvariantCulture,
                            $"; loading {load.Package} beside it, {load.Message}, {load.Elapsed.TotalSeconds:F0} s");
                    }

                    return new ModelProviderState(degraded ? ModelPhase.Degraded : ModelPhase.Ready, serving,
                        _time.GetElapsedTime(_readySince, now), active.Identity, active.Providers, load, _lastFailure, _goldenReport);
                }

                if (_load is { } first)
                {
                    return new ModelProviderState(first.Phase, first.Message, _time.GetElapsedTime(first.PhaseStarted, now), null, null, load, _lastFailure);
                }

                return _lastFailure is { } failure
                    ? new ModelProviderState(ModelPhase.Failed, failure, _time.GetElapsedTime(_failedSince, now), null, null, null, failure)
                    : new ModelProviderState(ModelPhase.NotLoaded, "no model loaded", TimeSpan.Zero, null, null, null, null);
            }
        }
    }

    /// <summary>The serving session, for status displays; null when none. Lease it with <see cref="Acquire"/> to run it.</summary>
    public OnnxInferenceSession? Active => Volatile.Read(ref _active);

    /// <summary>Loads the package named by <c>Model:Package</c>; see <see cref="SwapAsync"/>.</summary>
    public Task<ModelLoadOutcome> LoadConfiguredAsync(CancellationToken cancellationToken) => SwapAsync(_modelOptions.Package, cancellationToken);

    /// <summary>
    /// Loads and warms the package in <paramref name="packageDirectory"/> beside the serving model, then makes it the
    /// serving model. Frames already holding a lease finish on the old model, which is disposed after the last one.
    /// </summary>
    /// <returns>The outcome; a refused package leaves the serving model in place and lists every problem.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; the serving model is untouched. Session creation already
    /// under way (a TensorRT build) is waited for and thrown away.</exception>
    public async Task<ModelLoadOutcome> SwapAsync(string packageDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(packageDirectory);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _loadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await LoadAsync(packageDirectory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _loadGate.Release();
        }
    }

    /// <summary>
    /// Judges the serving model's golden samples again, beside the pipeline: it leases the serving session (a swap
    /// meanwhile only keeps the old session until the check ends) and runs the images one at a time on its own buffers,
    /// so frames keep flowing. A disagreement turns the state <see cref="ModelPhase.Degraded"/> with the reason; a later
    /// passing check of the same model clears it. Checks do not overlap: a second caller waits for the first.
    /// </summary>
    /// <returns>The report, also kept in <see cref="ModelProviderState.Golden"/>; null when nothing serves, the serving
    /// package has no golden samples, or this provider has no <see cref="GoldenSampleCheck"/>.</returns>
    /// <exception cref="OperationCanceledException">Cancelled; the state keeps the previous report.</exception>
    public async Task<GoldenCheckReport?> CheckGoldenSamplesAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _goldenGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_golden is null || Volatile.Read(ref _active) is null)
            {
                return null;
            }

            ModelLease lease;
            try
            {
                lease = Acquire();
            }
            catch (InvalidOperationException)
            {
                // Nothing serves (disposed, or lost a race with a dispose): nothing to check.
                return null;
            }

            using (lease)
            {
                var session = (OnnxInferenceSession)lease.Session;
                if (session.Package is not { Manifest.GoldenSamples.Count: > 0 } package)
                {
                    return null;
                }

                GoldenSampleCheck golden = _golden;
                IReadOnlyList<string> problems = await Task.Run(() => golden.RunAsync(package, session, null, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
                var report = new GoldenCheckReport(session.Identity, _time.GetUtcNow(), package.Manifest.GoldenSamples!.Count, problems);
                bool wasDegraded;
                lock (_stateGate)
                {
                    if (!ReferenceEquals(_active, session))
                    {
                        // Swapped while checking: the report is about a model that no longer serves.
                        return report;
                    }

                    wasDegraded = _goldenReport is { Passed: false };
                    _goldenReport = report;
                }

                if (!report.Passed)
                {
                    Log.GoldenCheckFailed(_logger, session.Identity.Id, session.Identity.Version, string.Join("; ", problems));
                }
                else if (wasDegraded)
                {
                    Log.GoldenCheckRecovered(_logger, session.Identity.Id, session.Identity.Version, report.Samples);
                }

                return report;
            }
        }
        finally
        {
            _goldenGate.Release();
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">No model is serving (not loaded yet, loading, or failed); the message says which.</exception>
    /// <exception cref="ObjectDisposedException">The provider was disposed (also an <see cref="InvalidOperationException"/>).</exception>
    public ModelLease Acquire()
    {
        while (true)
        {
            OnnxInferenceSession? session = Volatile.Read(ref _active);
            if (session is null)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                throw new InvalidOperationException(NoModelMessage());
            }

            if (session.TryAddReference())
            {
                return new ModelLease(this, session);
            }

            // Lost a race with a swap that retired this session and drained it: the new one is published already.
        }
    }

    /// <inheritdoc />
    public void Release(IInferenceSession session)
    {
        if (session is not OnnxInferenceSession onnx)
        {
            throw new ArgumentException("the session was not leased from this provider", nameof(session));
        }

        if (onnx.ReleaseReference())
        {
            DisposeRetired(onnx);
        }
    }

    /// <summary>
    /// Stops serving: the serving session is disposed once its leases end. Call after the pipeline has stopped and no
    /// load is running.
    /// </summary>
    public void Dispose()
    {
        OnnxInferenceSession? active;
        lock (_stateGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            active = _active;
            Volatile.Write(ref _active, null);
        }

        if (active is not null && active.ReleaseReference())
        {
            DisposeRetired(active);
        }

        _loadGate.Dispose();
        _goldenGate.Dispose();
    }

    private async Task<ModelLoadOutcome> LoadAsync(string packageDirectory, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        SetLoad(new LoadInProgress(packageDirectory, ModelPhase.Loading, 1, ModelLoadSteps.Verify, null, started, started));
        Log.LoadStarted(_logger, packageDirectory);
        OnnxInferenceSession? candidate = null;
        try
        {
            ModelPackage package = await OpenPackageAsync(packageDirectory, cancellationToken).ConfigureAwait(false);
            byte[] model = await ReadModelAsync(package, cancellationToken).ConfigureAwait(false);
            UpdateLoad(ModelPhase.Warming, 2, ModelLoadSteps.CreateSession, null);

            // Session creation and warm-up block for seconds (CPU) to minutes (a TensorRT build): off the caller's thread.
            candidate = await Task.Run(() => _loader.CreateSession(package, model,
                    detail => UpdateLoad(ModelPhase.Warming, 2, ModelLoadSteps.CreateSession, detail)), CancellationToken.None)
                .ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            UpdateLoad(ModelPhase.Warming, 3, ModelLoadSteps.Warmup, "on " + candidate.Providers.Active.DisplayName());
            OnnxInferenceSession warming = candidate;
            await Task.Run(() => _loader.Warmup(warming), CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            GoldenCheckReport? golden = await CheckCandidateAsync(package, candidate, cancellationToken).ConfigureAwait(false);

            TimeSpan elapsed = _time.GetElapsedTime(started);
            ModelLoadOutcome outcome = ModelLoadOutcome.Success(packageDirectory, candidate.Identity, candidate.Providers, elapsed);
            Activate(candidate, golden);
            candidate = null;
            return outcome;
        }
        catch (ModelLoadException ex)
        {
            return Refuse(packageDirectory, ex.Stage, ex.Problems, started);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Refuse(packageDirectory, ModelLoadStage.Package, [$"{packageDirectory} cannot be read: {ex.Message}"], started);
        }
        finally
        {
            candidate?.Dispose();
            SetLoad(null);
        }
    }

    /// <summary>Step 4: the candidate must give every golden sample its expected verdict before it may serve.</summary>
    /// <exception cref="ModelLoadException">A sample disagreed or could not be read; every such sample is named.</exception>
    private async Task<GoldenCheckReport?> CheckCandidateAsync(ModelPackage package, OnnxInferenceSession candidate, CancellationToken cancellationToken)
    {
        int count = package.Manifest.GoldenSamples?.Count ?? 0;
        if (count == 0)
        {
            return null;
        }

        if (_golden is not { } golden)
        {
            Log.GoldenNotChecked(_logger, candidate.Identity.Id, candidate.Identity.Version, count);
            return null;
        }

        UpdateLoad(ModelPhase.Warming, 4, ModelLoadSteps.Golden, null);
        IReadOnlyList<string> problems = await Task.Run(
            () => golden.RunAsync(package, candidate, (index, total, image) =>
                UpdateLoad(ModelPhase.Warming, 4, ModelLoadSteps.Golden, string.Create(CultureInfo.InvariantCulture, $"{index} of {total}: {image}")),
                cancellationToken),
            cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0)
        {
            throw new ModelLoadException(ModelLoadStage.GoldenSamples, problems);
        }

        Log.GoldenPassed(_logger, candidate.Identity.Id, candidate.Identity.Version, count);
        return new GoldenCheckReport(candidate.Identity, _time.GetUtcNow(), count, problems);
    }

    private async Task<ModelPackage> OpenPackageAsync(string packageDirectory, CancellationToken cancellationToken)
    {
        PackageVerificationOptions verification = PackageVerificationOptions.NoSignatureCheck;
        if (!string.IsNullOrWhiteSpace(_modelOptions.TrustedKeysDirectory))
        {
            TrustedKeys keys;
            try
            {
                keys = await TrustedKeys.LoadDirectoryAsync(_modelOptions.TrustedKeysDirectory, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelPackageException ex)
            {
                throw new ModelLoadException(ModelLoadStage.Package, ex.Problems.Select(p => p.Message).ToArray(), ex);
            }

            verification = _modelOptions.RequireSignature
                ? PackageVerificationOptions.RequireSignatureFrom(keys)
                : PackageVerificationOptions.VerifyIfSigned(keys);
        }

        PackageLoadResult opened = await ModelPackage.OpenAsync(packageDirectory, verification, cancellationToken).ConfigureAwait(false);
        if (!opened.Succeeded)
        {
            throw new ModelLoadException(ModelLoadStage.Package, opened.Problems.Select(p => p.Message).ToArray());
        }

        return opened.Package;
    }

    private static async Task<byte[]> ReadModelAsync(ModelPackage package, CancellationToken cancellationToken)
    {
        try
        {
            // The bytes loaded are the bytes hashed: a file swapped after OpenAsync is caught here.
            return await package.ReadVerifiedModelAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ModelPackageException ex)
        {
            throw new ModelLoadException(ModelLoadStage.Package, ex.Problems.Select(p => p.Message).ToArray(), ex);
        }
    }

    private void Activate(OnnxInferenceSession candidate, GoldenCheckReport? golden)
    {
        OnnxInferenceSession? previous;
        lock (_stateGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            previous = _active;
            Volatile.Write(ref _active, candidate);
            _readySince = _time.GetTimestamp();
            _lastFailure = null;
            _goldenReport = golden;
        }

        Log.LoadSucceeded(_logger, candidate.Identity.Id, candidate.Identity.Version, candidate.Identity.Precision, candidate.Providers.ToString());
        if (previous is not null)
        {
            Log.Swapped(_logger, previous.Identity.Id, previous.Identity.Version, candidate.Identity.Id, candidate.Identity.Version);
            if (previous.ReleaseReference())
            {
                DisposeRetired(previous);
            }
        }
    }

    private ModelLoadOutcome Refuse(string packageDirectory, ModelLoadStage stage, IReadOnlyList<string> problems, long started)
    {
        string reason = $"{packageDirectory} refused ({stage}): {string.Join("; ", problems)}";
        string serving;
        lock (_stateGate)
        {
            _lastFailure = reason;
            _failedSince = _time.GetTimestamp();
            serving = _active is { } active ? $"{active.Identity.Id} {active.Identity.Version}" : "none";
        }

        Log.LoadFailed(_logger, packageDirectory, stage, serving, string.Join("; ", problems));
        return ModelLoadOutcome.Failure(packageDirectory, stage, problems, _time.GetElapsedTime(started));
    }

    private void DisposeRetired(OnnxInferenceSession session)
    {
        session.Dispose();
        Log.Disposed(_logger, session.Identity.Id, session.Identity.Version);
        NativeHeap.Trim();
    }

    private string NoModelMessage()
    {
        ModelProviderState state = State;
        return $"no model is serving ({state.Phase}: {state.Message})";
    }

    private void SetLoad(LoadInProgress? load)
    {
        lock (_stateGate)
        {
            _load = load;
        }
    }

    private void UpdateLoad(ModelPhase phase, int step, string stepName, string? detail)
    {
        lock (_stateGate)
        {
            if (_load is { } load)
            {
                _load = load with
                {
                    Phase = phase,
                    Step = step,
                    StepName = stepName,
                    Detail = detail,
                    PhaseStarted = phase == load.Phase ? load.PhaseStarted : _time.GetTimestamp(),
                };
            }
        }
    }

    private sealed record LoadInProgress(string Package, ModelPhase Phase, int Step, string StepName, string? Detail, long Started, long PhaseStarted)
    {
        /// <summary><c>step 2 of 4: creating the session (TensorRT: building the engine)</c>.</summary>
        public string Message => Detail is null
            ? string.Create(CultureInfo.InvariantCulture, $"step {Step} of {ModelLoadSteps.Count}: {StepName}")
            : string.Create(CultureInfo.InvariantCulture, $"step {Step} of {ModelLoadSteps.Count}: {StepName} ({Detail})");
    }

    private static partial class Log
    {
        [LoggerMessage(110, LogLevel.Information, "Loading model package {Package}")]
        public static partial void LoadStarted(ILogger logger, string package);

        [LoggerMessage(111, LogLevel.Information, "Model {ModelId} {Version} ({Precision}) is serving on {Providers}")]
        public static partial void LoadSucceeded(ILogger logger, string modelId, string version, string precision, string providers);

        [LoggerMessage(112, LogLevel.Error, "Model package {Package} refused at {Stage}; serving model: {Serving}. Problems: {Problems}")]
        public static partial void LoadFailed(ILogger logger, string package, ModelLoadStage stage, string serving, string problems);

        [LoggerMessage(113, LogLevel.Information, "Switched from model {OldId} {OldVersion} to {NewId} {NewVersion}; the old one is disposed when its last frame finishes")]
        public static partial void Swapped(ILogger logger, string oldId, string oldVersion, string newId, string newVersion);

        [LoggerMessage(114, LogLevel.Information, "Model {ModelId} {Version} disposed: its last lease ended")]
        public static partial void Disposed(ILogger logger, string modelId, string version);

        [LoggerMessage(115, LogLevel.Information, "Model {ModelId} {Version}: all {Count} golden samples got their expected verdicts")]
        public static partial void GoldenPassed(ILogger logger, string modelId, string version, int count);

        [LoggerMessage(116, LogLevel.Error, "Model {ModelId} {Version} DEGRADED: its golden samples no longer get their expected verdicts; it keeps serving. {Problems}")]
        public static partial void GoldenCheckFailed(ILogger logger, string modelId, string version, string problems);

        [LoggerMessage(117, LogLevel.Information, "Model {ModelId} {Version} recovered: all {Count} golden samples agree again")]
        public static partial void GoldenCheckRecovered(ILogger logger, string modelId, string version, int count);

        [LoggerMessage(118, LogLevel.Warning, "Model {ModelId} {Version} has {Count} golden samples, but this process has no golden sample check; they were not judged")]
        public static partial void GoldenNotChecked(ILogger logger, string modelId, string version, int count);
    }
}
