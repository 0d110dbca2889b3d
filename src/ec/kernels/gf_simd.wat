;; GF(2^8) matrix × shards with WebAssembly SIMD: the split 4-bit lookup-table method of
;; ISA-L / klauspost (pshufb), here with i8x16.swizzle. Assembled by `deno task wasm`
;; (scripts/build_wasm.ts) into gf_simd_wasm.ts.
;;
;; mul_rows(tbl, rows, cols, in, out, stride, len):
;;   for r < rows: out[r*stride + i] = XOR_c  T(r,c)[in[c*stride + i]]   for i < len
;; T(r,c) is 32 bytes at tbl + (r*cols + c)*32: 16 products of the low nibble, then 16 of the
;; high nibble. len must be a multiple of 64: 64 bytes (four vectors) are done per step so each
;; table pair is loaded once per 64 bytes and four independent swizzle chains keep the core busy.
;; The caller keeps a block (cols + rows) × stride small enough to stay in cache.
(module
  (memory (export "memory") 1)
  (func (export "mul_rows")
    (param $tbl i32) (param $rows i32) (param $cols i32) (param $in i32) (param $out i32)
    (param $stride i32) (param $len i32)
    (local $b i32) (local $r i32) (local $c i32) (local $tp i32) (local $ip i32) (local $op i32)
    (local $mask v128) (local $tl v128) (local $th v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (if (i32.eqz (local.get $len)) (then (return)))
    (local.set $mask (i8x16.splat (i32.const 15)))
    (local.set $b (i32.const 0))
    (loop $blocks
      (local.set $r (i32.const 0))
      (local.set $tp (local.get $tbl))
      (loop $rowsl
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (local.set $c (i32.const 0))
        (local.set $ip (i32.add (local.get $in) (local.get $b)))
        (loop $colsl
          (local.set $tl (v128.load (local.get $tp)))
          (local.set $th (v128.load offset=16 (local.get $tp)))
          (local.set $x0 (v128.load (local.get $ip)))
          (local.set $x1 (v128.load offset=16 (local.get $ip)))
          (local.set $x2 (v128.load offset=32 (local.get $ip)))
          (local.set $x3 (v128.load offset=48 (local.get $ip)))
          (local.set $a0 (v128.xor (local.get $a0) (v128.xor
            (i8x16.swizzle (local.get $tl) (v128.and (local.get $x0) (local.get $mask)))
            (i8x16.swizzle (local.get $th) (i8x16.shr_u (local.get $x0) (i32.const 4))))))
          (local.set $a1 (v128.xor (local.get $a1) (v128.xor
            (i8x16.swizzle (local.get $tl) (v128.and (local.get $x1) (local.get $mask)))
            (i8x16.swizzle (local.get $th) (i8x16.shr_u (local.get $x1) (i32.const 4))))))
          (local.set $a2 (v128.xor (local.get $a2) (v128.xor
            (i8x16.swizzle (local.get $tl) (v128.and (local.get $x2) (local.get $mask)))
            (i8x16.swizzle (local.get $th) (i8x16.shr_u (local.get $x2) (i32.const 4))))))
          (local.set $a3 (v128.xor (local.get $a3) (v128.xor
            (i8x16.swizzle (local.get $tl) (v128.and (local.get $x3) (local.get $mask)))
            (i8x16.swizzle (local.get $th) (i8x16.shr_u (local.get $x3) (i32.const 4))))))
          (local.set $tp (i32.add (local.get $tp) (i32.const 32)))
          (local.set $ip (i32.add (local.get $ip) (local.get $stride)))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $colsl (i32.lt_u (local.get $c) (local.get $cols))))
        (local.set $op (i32.add (i32.add (local.get $out) (local.get $b))
          (i32.mul (local.get $r) (local.get $stride))))
        (v128.store (local.get $op) (local.get $a0))
        (v128.store offset=16 (local.get $op) (local.get $a1))
        (v128.store offset=32 (local.get $op) (local.get $a2))
        (v128.store offset=48 (local.get $op) (local.get $a3))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rowsl (i32.lt_u (local.get $r) (local.get $rows))))
      (local.set $b (i32.add (local.get $b) (i32.const 64)))
      (br_if $blocks (i32.lt_u (local.get $b) (local.get $len))))))
