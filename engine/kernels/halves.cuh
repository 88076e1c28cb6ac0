// Bytes to floats through f16x2 halves: the same exact floats as ql_bytes_to_f32x4 (common.cuh),
// with the int-to-float step moved off the logic pipe. A permute makes two halves 1024 + byte
// (high bytes 0x64), one f16x2 add takes 1024 + bias off both (exact: integers below 2048 are
// f16s), and a conversion per element (HADD2.F32, on the multiply-add pipe) gives the float:
// 1 logic op per 2 elements instead of 1 per element.
// A type's device functions choose it per call site, where an H100 A/B of the dmmv measured it
// faster (bench/results/experiments-2026-12-07.md, thirteenth session): Q5_0, Q8_0, Q2_K, Q3_K,
// Q6_K, TQ1_0, TQ2_0, the IQ2/IQ3 grids and the kv16 whole-chunk dots (IQ4_NL, IQ4_XS, MXFP4).
// Q4_0, Q4_1, Q5_1, the Q4_K/Q5_K groups and the kv16 groups measured slower or no faster and
// keep the exact permute-and-subtract path, which is also what every target without fast f16x2 gets.
#pragma once

// f16x2 arithmetic at full rate: sm_53 and later except sm_61, whose f16 add/multiply runs at
// 2 results per clock per SM against 128 for f32 (CUDA C Programming Guide, throughput of
// native arithmetic instructions). Never on the host (the CPU harness).
#if QL_ON_DEVICE && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 530 && __CUDA_ARCH__ != 610
#define QL_FAST_F16X2 1
#else
#define QL_FAST_F16X2 0
#endif

// ql_bytes_to_f32x4 (the 4 bytes of v minus bias, 0 <= bias < 1024 an integer), on halves.
QL_DEV void ql_bytes_to_f32x4_h(u32 v, float bias, float* out) {
#if QL_FAST_F16X2
    const u32 off = (0xE400u + (u32)(int)bias) * 0x10001u;  // f16x2: -(1024 + bias) twice
    for (int p = 0; p < 2; ++p) {
        const u32 h = __byte_perm(v, 0x64646464u, p ? 0x4342u : 0x4140u);  // halves 1024 + byte 2p, 2p + 1
        u32 d;
        asm("add.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(h), "r"(off));
        asm("{.reg .f16 a, b;\n\tmov.b32 {a, b}, %2;\n\tcvt.f32.f16 %0, a;\n\tcvt.f32.f16 %1, b;}"
            : "=f"(out[2 * p]), "=f"(out[2 * p + 1]) : "r"(d));
    }
#else
    ql_bytes_to_f32x4(v, bias, out);
#endif
}

// acc + sum_i (byte i of v - bias) x[i] for the 4 bytes of v, the floats from ql_bytes_to_f32x4_h.
QL_DEV float ql_dot_bytes4_h(u32 v, float bias, const float* x, float acc) {
    float f[4];
    ql_bytes_to_f32x4_h(v, bias, f);
    return f[3] * x[3] + (f[2] * x[2] + (f[1] * x[1] + (f[0] * x[0] + acc)));
}
