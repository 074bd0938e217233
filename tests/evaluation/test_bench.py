from hotich.evaluation.bench import bench, local_service, uploads


def test_the_benchmark_reads_every_page_it_posts_as_png_and_as_jpeg(light_pages_dir):
    pages = sorted(p for p in light_pages_dir.glob("*.png") if not p.name.endswith(".clean.png"))[:2]
    png, jpeg = uploads(pages), uploads(pages, "jpeg")
    assert [(name, data) for name, data, _ in png] == [(p.name, p.read_bytes()) for p in pages]
    assert all(ctype == "image/jpeg" and data[:3] == b"\xff\xd8\xff" and name.endswith(".jpg")
               for name, data, ctype in jpeg)
    with local_service() as (url, key):
        for bodies in (png, jpeg):
            rows = bench(url, key, bodies, [1, 2], 2)
            assert [(r.clients, r.requests, r.ok, r.busy) for r in rows] == [(1, 2, 2, 0), (2, 2, 2, 0)]
            assert all(0 < r.latency_p50_s <= r.latency_p95_s and r.pages_per_s > 0 for r in rows)
            # The service's stages, in the order a page goes through them, fit in the latency the client saw.
            stages = rows[0].stages_p50_ms
            assert list(stages)[:2] == ["decode", "queued"] and list(stages)[-1] == "total" and "recognise" in stages
            assert 0 < stages["total"] < rows[0].latency_p50_s * 1000
