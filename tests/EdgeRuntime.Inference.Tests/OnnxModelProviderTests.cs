using System.Collections.Concurrent;
using EdgeRuntime.Core.Processing;
using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Sessions;
using EdgeRuntime.Inference.Tests.Support;
using EdgeRuntime.ModelPackages.Signing;
using Microsoft.Extensions.Logging;

namespace EdgeRuntime.Inference.Tests;

public sealed class OnnxModelProviderTests : IDisposable
{
    private readonly ProviderHarness _harness = new();

    [Fact]
    public async Task LoadedModelServesOnCpuWithItsIdentityAndTheReasonsTheGpuProvidersWereSkipped()
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package("a", TestModels.Dynamic));

        Assert.True(outcome.Succeeded, outcome.ToString());
        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(ModelPhase.Ready, state.Phase);
        Assert.Equal("tiny-unet", state.Active!.Id);
        Assert.Equal("1.0.0", state.Active.Version);
        Assert.Equal("fp32", state.Active.Precision);
        Assert.Equal("CPU", state.Active.ExecutionProvider);
        Assert.Equal(TestPackage.Sha256(File.ReadAllBytes(TestModels.Dynamic)), state.Active.Sha256);
        Assert.Equal(ExecutionProviderKind.Cpu, state.Providers!.Active);
        Assert.Equal([ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda], state.Providers.Skipped.Select(s => s.Provider));
        Assert.All(state.Providers.Skipped, skipped => Assert.Contains("not enabled in this build", skipped.Reason, StringComparison.Ordinal));
        Assert.Null(state.Load);
        Assert.Null(state.LastFailure);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 111 && e.Message.Contains("serving on CPU (skipped TensorRT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StateReportsHowLongTheModelHasBeenServing()
    {
        await _harness.LoadAsync(_harness.Package("a", TestModels.Dynamic));

        _harness.Time.Advance(TimeSpan.FromSeconds(90));

        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(TimeSpan.FromSeconds(90), state.Elapsed);
        Assert.StartsWith("tiny-unet 1.0.0 serving on CPU", state.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateShowsTheLoadInProgressFirstAloneThenBesideTheServingModel()
    {
        using var probe = new GatedProbe(new AcceleratorFacts("1.31.1", null, null));
        using var harness = new ProviderHarness(probe: probe);

        Task<ModelLoadOutcome> first = harness.LoadAsync(harness.Package("a", TestModels.Dynamic));
        Assert.True(probe.Entered.Wait(TimeSpan.FromSeconds(30)));
        harness.Time.Advance(TimeSpan.FromSeconds(30));
        ModelProviderState loading = harness.Provider.State;
        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => harness.Provider.Acquire());
        probe.Open();
        Assert.True((await first).Succeeded);

        Assert.Equal(ModelPhase.Warming, loading.Phase);
        Assert.Equal("step 2 of 4: creating the session", loading.Message);
        Assert.Equal(TimeSpan.FromSeconds(30), loading.Elapsed);
        Assert.Null(loading.Active);
        Assert.Equal(TimeSpan.FromSeconds(30), loading.Load!.Elapsed);
        Assert.Equal(new ModelLoadProgress(loading.Load.Package, ModelPhase.Warming, "step 2 of 4: creating the session", TimeSpan.FromSeconds(30), 2, 4, ModelLoadSteps.CreateSession),
            loading.Load);
        Assert.Equal("no model is serving (Warming: step 2 of 4: creating the session)", refused.Message);

        probe.Close();
        string second = harness.Package("b", TestModels.Retrained, new ManifestFields { Version = "1.1.0" });
        Task<ModelLoadOutcome> swap = harness.LoadAsync(second);
        Assert.True(probe.Entered.Wait(TimeSpan.FromSeconds(30)));
        ModelProviderState swapping = harness.Provider.State;
        using (ModelLease lease = harness.Provider.Acquire())
        {
            Assert.Equal("1.0.0", lease.Session.Identity.Version);
        }

        probe.Open();
        Assert.True((await swap).Succeeded);

        Assert.Equal(ModelPhase.Ready, swapping.Phase);
        Assert.Equal("1.0.0", swapping.Active!.Version);
        Assert.Equal(new ModelLoadProgress(second, ModelPhase.Warming, "step 2 of 4: creating the session", TimeSpan.Zero, 2, 4, ModelLoadSteps.CreateSession), swapping.Load);
        Assert.EndsWith($"; loading {second} beside it, step 2 of 4: creating the session, 0 s", swapping.Message, StringComparison.Ordinal);
        Assert.Equal("1.1.0", harness.Provider.State.Active!.Version);
        Assert.Null(harness.Provider.State.Load);
    }

    [Fact]
    public void AcquireBeforeAnyModelLoadedSaysNoModelIsServing()
    {
        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => _harness.Provider.Acquire());

        Assert.Equal("no model is serving (NotLoaded: no model loaded)", refused.Message);
        Assert.Equal(ModelPhase.NotLoaded, _harness.Provider.State.Phase);
    }

    [Fact]
    public async Task FailedFirstLoadLeavesTheProviderFailedWithTheReason()
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Directory.Combine("missing"));

        Assert.Equal(ModelLoadStage.Package, outcome.FailedStage);
        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(ModelPhase.Failed, state.Phase);
        Assert.Contains("does not exist", state.Message, StringComparison.Ordinal);
        InvalidOperationException refused = Assert.Throws<InvalidOperationException>(() => _harness.Provider.Acquire());
        Assert.Contains("does not exist", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedModelFileIsRefusedWithHashMismatchAndTheActiveModelKeepsServing()
    {
        OnnxInferenceSession active = await LoadActiveAsync();
        string tampered = _harness.Package("tampered", TestModels.Dynamic, new ManifestFields { Version = "2.0.0" });
        File.Copy(TestModels.Retrained, Path.Combine(tampered, "model.onnx"), overwrite: true);

        ModelLoadOutcome outcome = await _harness.LoadAsync(tampered);

        Assert.False(outcome.Succeeded);
        Assert.Equal(ModelLoadStage.Package, outcome.FailedStage);
        Assert.Contains(outcome.Problems, p => p.Contains("SHA-256", StringComparison.Ordinal));
        AssertStillServing(active, outcome);
    }

    [Fact]
    public async Task CorruptModelWithAMatchingHashIsRefusedAtTheGraphAndTheActiveModelKeepsServing()
    {
        OnnxInferenceSession active = await LoadActiveAsync();
        byte[] corrupt = File.ReadAllBytes(TestModels.Dynamic)[..2000];

        ModelLoadOutcome outcome = await _harness.LoadAsync(TestPackage.Write(_harness.Directory.Combine("corrupt"), corrupt, new ManifestFields { Version = "2.0.0" }));

        Assert.Equal(ModelLoadStage.Graph, outcome.FailedStage);
        string problem = Assert.Single(outcome.Problems);
        Assert.StartsWith("model.onnx is not a model ONNX Runtime can load: ", problem, StringComparison.Ordinal);
        AssertStillServing(active, outcome);
    }

    [Fact]
    public async Task ManifestThatDisagreesWithTheGraphIsRefusedWithEveryProblemListed()
    {
        OnnxInferenceSession active = await LoadActiveAsync();
        var fields = new ManifestFields { Version = "2.0.0", Channels = 1, Size = 32, Classes = 2 };

        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package("mismatch", TestModels.Dynamic, fields));

        Assert.Equal(ModelLoadStage.Graph, outcome.FailedStage);
        Assert.Equal(
            [
                "\"input\" has C = 3 (shape [?,3,64,64]) but input.channels is 1",
                "\"input\" has H = 64 (shape [?,3,64,64]) but input.height is 32",
                "\"input\" has W = 64 (shape [?,3,64,64]) but input.width is 32",
                "\"logits\" has K = 3 (shape [?,3,64,64]) but the number of classes is 2",
                "\"logits\" has H = 64 (shape [?,3,64,64]) but input.height (the mask has the input's size) is 32",
                "\"logits\" has W = 64 (shape [?,3,64,64]) but input.width (the mask has the input's size) is 32",
            ],
            outcome.Problems);
        AssertStillServing(active, outcome);
    }

    [Fact]
    public async Task WrongTensorNamesAreRefusedNamingTheGraphsOwnNames()
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package("names", TestModels.Dynamic, new ManifestFields { InputName = "image", OutputName = "mask" }));

        Assert.Equal(
            [
                "input.name = \"image\": the model has no input of that name (its inputs: input)",
                "output.name = \"mask\": the model has no output of that name (its outputs: logits)",
            ],
            outcome.Problems);
    }

    [Fact]
    public async Task ModelWhoseWarmupOutputIsNotFiniteIsRefused()
    {
        OnnxInferenceSession active = await LoadActiveAsync();

        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package("nan", TestModels.Dynamic.Replace("tiny-unet.onnx", "tiny-unet-nan.onnx", StringComparison.Ordinal),
            new ManifestFields { Version = "2.0.0" }));

        Assert.Equal(ModelLoadStage.Warmup, outcome.FailedStage);
        Assert.Equal(["the warm-up inference on CPU produced 49152 NaN or infinite values of 49152"], outcome.Problems);
        AssertStillServing(active, outcome);
    }

    [Fact]
    public async Task SwapKeepsTheOldSessionAliveUntilItsLastLeaseEnds()
    {
        await _harness.LoadAsync(_harness.Package("a", TestModels.Dynamic));
        ModelLease old = _harness.Provider.Acquire();
        var oldSession = (OnnxInferenceSession)old.Session;

        ModelLoadOutcome swapped = await _harness.LoadAsync(_harness.Package("b", TestModels.Retrained, new ManifestFields { Version = "1.1.0" }));

        Assert.True(swapped.Succeeded, swapped.ToString());
        Assert.False(oldSession.IsDisposed);
        using (ModelLease current = _harness.Provider.Acquire())
        {
            Assert.Equal("1.1.0", current.Session.Identity.Version);
        }

        // The frame that started on the old model finishes on it.
        using (InferenceBuffers buffers = old.Session.CreateBuffers(1))
        {
            old.Session.Run(buffers, 1);
        }

        old.Dispose();
        Assert.True(oldSession.IsDisposed);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 114 && e.Message.Contains("tiny-unet 1.0.0 disposed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BuffersOutlivingTheirDisposedSessionCanStillBeDisposed()
    {
        await _harness.LoadAsync(_harness.Package("a", TestModels.Dynamic));
        ModelLease lease = _harness.Provider.Acquire();
        var session = (OnnxInferenceSession)lease.Session;
        InferenceBuffers buffers = session.CreateBuffers(4);
        await _harness.LoadAsync(_harness.Package("b", TestModels.Retrained, new ManifestFields { Version = "1.1.0" }));

        lease.Dispose();

        Assert.True(session.IsDisposed);
        Assert.Equal(0, session.LiveBufferCount);
        buffers.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffers.InputData.Length);
    }

    [Fact]
    public async Task HotSwapUnderConcurrentRunsNeverFailsARunAndDisposesEveryRetiredSession()
    {
        string first = _harness.Package("a", TestModels.Dynamic);
        string second = _harness.Package("b", TestModels.Retrained, new ManifestFields { Version = "1.1.0" });
        float[] input = TestModels.RandomInput(4, seed: 7);
        var expected = new Dictionary<string, float[]>
        {
            ["1.0.0"] = PlainOnnx.Run(TestModels.Dynamic, input, 4),
            ["1.1.0"] = PlainOnnx.Run(TestModels.Retrained, input, 4),
        };
        Assert.False(PlainOnnx.Close(expected["1.0.0"], expected["1.1.0"]));
        Assert.True((await _harness.LoadAsync(first)).Succeeded);

        var failures = new ConcurrentQueue<string>();
        var runs = new ConcurrentDictionary<OnnxInferenceSession, int>();
        using var ran = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        Task[] workers = Enumerable.Range(0, 2).Select(_ => Task.Run(() => Work(stop.Token))).ToArray();

        const int Swaps = 6;
        for (int swap = 0; swap < Swaps; swap++)
        {
            ModelLoadOutcome outcome = await _harness.LoadAsync(swap % 2 == 0 ? second : first);
            Assert.True(outcome.Succeeded, outcome.ToString());

            // Let the workers run the new model a few times before the next swap.
            OnnxInferenceSession active = _harness.Provider.Active!;
            while (runs.GetValueOrDefault(active) < 3)
            {
                Assert.True(await ran.WaitAsync(TimeSpan.FromSeconds(30)), "the workers stopped running");
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.Equal(Swaps + 1, runs.Count);
        OnnxInferenceSession last = _harness.Provider.Active!;
        Assert.All(runs.Keys.Where(s => s != last), retired => Assert.True(retired.IsDisposed, $"{retired.Identity.Version} was not disposed"));
        Assert.False(last.IsDisposed);

        void Work(CancellationToken token)
        {
            InferenceBuffers? buffers = null;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    using ModelLease lease = _harness.Provider.Acquire();
                    var session = (OnnxInferenceSession)lease.Session;
                    if (buffers is null || !ReferenceEquals(buffers.Owner, session))
                    {
                        // A new model: the pipeline's rule, new buffers from the session that runs them.
                        buffers?.Dispose();
                        buffers = session.CreateBuffers(4);
                        input.CopyTo(buffers.InputData);
                    }

                    session.Run(buffers, 4);
                    if (!PlainOnnx.Close(expected[session.Identity.Version], buffers.OutputData))
                    {
                        failures.Enqueue($"model {session.Identity.Version} gave another model's output");
                    }

                    runs.AddOrUpdate(session, 1, (_, count) => count + 1);
                    ran.Release();
                }
            }
            catch (Exception ex)
            {
                failures.Enqueue(ex.ToString());
            }
            finally
            {
                buffers?.Dispose();
            }
        }
    }

    [Fact]
    public async Task UnsignedPackageIsRefusedWhenASignatureIsRequiredAndASignedOneLoads()
    {
        using var keys = new TempDirectory();
        using PackageSigningKey key = PackageSigningKey.Generate();
        File.WriteAllText(keys.Combine("line.pem"), key.ExportPublicKeyPem());
        using var harness = new ProviderHarness(new ModelOptions { Package = "unused", TrustedKeysDirectory = keys.Path, RequireSignature = true });
        string unsigned = harness.Package("unsigned", TestModels.Dynamic);
        string signedPackage = harness.Package("signed", TestModels.Dynamic, new ManifestFields { Version = "1.2.0" });
        byte[] manifest = File.ReadAllBytes(Path.Combine(signedPackage, "manifest.json"));
        File.WriteAllBytes(Path.Combine(signedPackage, "manifest.sig"), key.Sign(manifest).ToUtf8Json());

        ModelLoadOutcome refused = await harness.LoadAsync(unsigned);
        ModelLoadOutcome loaded = await harness.LoadAsync(signedPackage);

        Assert.Equal(ModelLoadStage.Package, refused.FailedStage);
        Assert.Contains(refused.Problems, p => p.Contains("no manifest.sig and a signature is required", StringComparison.Ordinal));
        Assert.True(loaded.Succeeded, loaded.ToString());
        Assert.Equal("1.2.0", loaded.Identity!.Version);
    }

    [Fact]
    public async Task LoadConfiguredAsyncLoadsTheModelOptionsPackage()
    {
        using var packages = new TempDirectory();
        string package = TestPackage.Write(packages.Combine("configured"), TestModels.Dynamic);
        using var harness = new ProviderHarness(new ModelOptions { Package = package });

        ModelLoadOutcome outcome = await harness.Provider.LoadConfiguredAsync(CancellationToken.None);

        Assert.True(outcome.Succeeded, outcome.ToString());
        Assert.Equal(package, outcome.Package);
    }

    [Fact]
    public async Task DisposingTheProviderWaitsForOutstandingLeasesBeforeFreeingTheSession()
    {
        await _harness.LoadAsync(_harness.Package("a", TestModels.Dynamic));
        ModelLease lease = _harness.Provider.Acquire();
        var session = (OnnxInferenceSession)lease.Session;

        _harness.Provider.Dispose();

        Assert.False(session.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => _harness.Provider.Acquire());
        lease.Dispose();
        Assert.True(session.IsDisposed);
    }

    public void Dispose() => _harness.Dispose();

    private async Task<OnnxInferenceSession> LoadActiveAsync()
    {
        ModelLoadOutcome outcome = await _harness.LoadAsync(_harness.Package("active", TestModels.Dynamic));
        Assert.True(outcome.Succeeded, outcome.ToString());
        return _harness.Provider.Active!;
    }

    private void AssertStillServing(OnnxInferenceSession active, ModelLoadOutcome outcome)
    {
        using ModelLease lease = _harness.Provider.Acquire();
        Assert.Same(active, lease.Session);
        Assert.False(active.IsDisposed);
        ModelProviderState state = _harness.Provider.State;
        Assert.Equal(ModelPhase.Ready, state.Phase);
        Assert.Equal("1.0.0", state.Active!.Version);
        Assert.Contains(string.Join("; ", outcome.Problems), state.LastFailure, StringComparison.Ordinal);
        Assert.Contains(_harness.Logger.Entries, e => e.EventId == 112 && e.Level == LogLevel.Error && e.Message.Contains("serving model: tiny-unet 1.0.0", StringComparison.Ordinal));
    }
}
