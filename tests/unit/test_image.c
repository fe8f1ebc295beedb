/* Image files and conversions: PngSuite decoded as OpenCV decodes it (in nd's
 * conventions, see tests/reference/image.py), every corrupt PngSuite file
 * refused, round trips through PNG, JPEG and PNM, bad inputs with messages. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <nd_image.h>
#include <stdlib.h>
#include <unistd.h>

static const char *suite_path(const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/pngsuite/%s", ND_TEST_DATA_DIR, name);
    return path;
}

/* A path for a file the test writes (removed by the caller). */
static const char *temp_path(const char *ext) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/nd_test_image_%d.%s", (int)getpid(), ext);
    return path;
}

static const char *const PNG_SET[] = {
    "basn0g01", "basn0g02", "basn0g04", "basn0g08", "basn0g16", "basn2c08", "basn2c16",
    "basn3p01", "basn3p02", "basn3p04", "basn3p08", "basn4a08", "basn4a16", "basn6a08",
    "basn6a16", "basi0g16", "basi2c08", "basi3p08", "basi6a16", "tbbn0g04", "tbwn0g16",
    "tbbn2c16", "tbrn2c08", "tbbn3p08", "tp0n3p08", "tm3n3p02", "s01n3p01", "s33i3p04",
    "g03n2c08", "oi9n2c16", "z09n2c08", "cs3n2c16", "f04n2c08", "ch1n3p04"};

ND_TEST(image, pngsuite_matches_opencv) {
    for (size_t i = 0; i < sizeof PNG_SET / sizeof *PNG_SET; i++) {
        char file[64], gold[64];
        snprintf(file, sizeof file, "%s.png", PNG_SET[i]);
        snprintf(gold, sizeof gold, "image_png_%s.npy", PNG_SET[i]);
        nd_tensor *img = nd_image_read(suite_path(file));
        cr_assert(img, "%s: %s", file, nd_last_error());
        cr_assert_eq(nd_type(img), ND_U8, "%s", file);
        assert_close(img, golden(gold), 0, 0);
    }
}

ND_TEST(image, pngsuite_colour_types_give_the_documented_channels) {
    struct {
        const char *file;
        int64_t c;
    } cases[] = {{"basn0g08.png", 1}, {"basn2c08.png", 3}, {"basn6a08.png", 4},
                 {"basn4a08.png", 4}, {"basn3p08.png", 3}, {"tbbn3p08.png", 4},
                 {"tbrn2c08.png", 4}, {"tbbn0g04.png", 4}, {"basn0g16.png", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nd_tensor *img = nd_image_read(suite_path(cases[i].file));
        cr_assert(img, "%s: %s", cases[i].file, nd_last_error());
        cr_assert_eq(nd_size(img, 2), cases[i].c, "%s gave %lld channels", cases[i].file,
                     (long long)nd_size(img, 2));
    }
    /* 16-bit grey: the high byte (v >> 8); 1-bit grey: 0 or 255 */
    nd_tensor *g16 = nd_image_read(suite_path("basn0g16.png"));
    nd_tensor *g1 = nd_image_read(suite_path("basn0g01.png"));
    cr_assert_eq(nd_item(nd_max(g1, ND_ALL, false)), 255);
    cr_assert_eq(nd_item(nd_min(g1, ND_ALL, false)), 0);
    cr_assert(g16);
}

ND_TEST(image, every_valid_pngsuite_file_reads_and_every_corrupt_one_fails) {
    DIR *dir = opendir(suite_path(""));
    cr_assert(dir, "PngSuite not found at %s", suite_path(""));
    int valid = 0, corrupt = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".png")) continue;
        nd_scope_begin();
        nd_clear_error();
        nd_tensor *img = nd_image_read(suite_path(e->d_name));
        if (e->d_name[0] == 'x') {
            cr_assert_null(img, "%s is corrupt but was read", e->d_name);
            assert_error("nd_image_read");
            assert_error(e->d_name);
            corrupt++;
        } else {
            cr_assert(img, "%s: %s", e->d_name, nd_last_error());
            int64_t c = nd_size(img, 2);
            cr_assert(c == 1 || c == 3 || c == 4, "%s: %lld channels", e->d_name, (long long)c);
            valid++;
        }
        nd_scope_end();
    }
    closedir(dir);
    cr_assert_geq(valid, 150);
    cr_assert_geq(corrupt, 14);
}

ND_TEST(image, png_round_trip_is_lossless_for_1_2_3_4_channels) {
    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    assert_shape(card, ND_SHAPE(240, 320, 3));
    for (int64_t c = 1; c <= 4; c++) {
        nd_tensor *img = nd_slice(nd_cat(2, (nd_tensor *[]){card, card}, 2), 2, 0, c, 1);
        const char *path = temp_path("png");
        cr_assert_eq(nd_image_write(img, path), 0, "%s", nd_last_error());
        nd_tensor *back = nd_image_read(path);
        unlink(path);
        if (c == 2) /* grey + alpha reads as RGBA */
            img = nd_cat(4,
                         (nd_tensor *[]){nd_slice(img, 2, 0, 1, 1), nd_slice(img, 2, 0, 1, 1),
                                         nd_slice(img, 2, 0, 1, 1), nd_slice(img, 2, 1, 2, 1)},
                         2);
        assert_close(back, img, 0, 0);
    }
    /* a 2-d tensor is a grey picture */
    nd_tensor *grey = nd_select(card, 2, 1);
    cr_assert_eq(nd_image_write(grey, temp_path("png")), 0, "%s", nd_last_error());
    nd_tensor *back = nd_image_read(temp_path("png"));
    unlink(temp_path("png"));
    assert_close(back, nd_unsqueeze(grey, 2), 0, 0);
}

ND_TEST(image, jpeg_round_trip_within_the_codec_error) {
    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    const char *path = temp_path("jpg");
    cr_assert_eq(nd_image_write(card, path), 0, "%s", nd_last_error());
    nd_tensor *back = nd_image_read(path);
    assert_shape(back, ND_SHAPE(240, 320, 3));
    nd_tensor *err = nd_abs(nd_sub(nd_to(back, ND_F64), nd_to(card, ND_F64)));
    /* cv2's own round trip at quality 95 (4:2:0 chroma, libjpeg-turbo) errs by 6.33 on
     * average on this card of thin coloured lines; 20 errs by 12.1 */
    cr_assert_lt(nd_item(nd_mean(err, ND_ALL, false)), 6.5, "mean error %g",
                 nd_item(nd_mean(err, ND_ALL, false)));
    /* lower quality: a smaller file and a larger error, still the same picture */
    cr_assert_eq(nd_image_write_jpeg(card, path, 20), 0, "%s", nd_last_error());
    nd_tensor *low = nd_image_read(path);
    double mean_low =
        nd_item(nd_mean(nd_abs(nd_sub(nd_to(low, ND_F64), nd_to(card, ND_F64))), ND_ALL, false));
    cr_assert(mean_low > nd_item(nd_mean(err, ND_ALL, false)) && mean_low < 12.5, "%g", mean_low);
    /* grey JPEG */
    cr_assert_eq(nd_image_write(nd_slice(card, 2, 1, 2, 1), path), 0, "%s", nd_last_error());
    assert_shape(nd_image_read(path), ND_SHAPE(240, 320, 1));
    unlink(path);
}

ND_TEST(image, pnm_round_trip_and_ascii_and_16_bit) {
    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    cr_assert_eq(nd_image_write(card, temp_path("ppm")), 0, "%s", nd_last_error());
    assert_close(nd_image_read(temp_path("ppm")), card, 0, 0);
    unlink(temp_path("ppm"));
    nd_tensor *grey = nd_slice(card, 2, 0, 1, 1);
    cr_assert_eq(nd_image_write(grey, temp_path("pgm")), 0, "%s", nd_last_error());
    assert_close(nd_image_read(temp_path("pgm")), grey, 0, 0);
    unlink(temp_path("pgm"));

    const char ascii[] = "P3\n# a comment\n2 1\n# another\n15\n15 0 7  1 2 3\n";
    nd_tensor *a = nd_image_decode(ascii, sizeof ascii - 1);
    assert_shape(a, ND_SHAPE(1, 2, 3));
    assert_values(a, 0, 255, 0, 119, 17, 34, 51); /* round(v·255/15) */
    const char grey_ascii[] = "P2 3 1 255 0 128 255";
    assert_values(nd_image_decode(grey_ascii, sizeof grey_ascii - 1), 0, 0, 128, 255);
    const unsigned char wide[] = {'P', '5', ' ', '2',  ' ',  '1',  ' ',  '6', '5',
                                  '5', '3', '5', '\n', 0x12, 0x34, 0xff, 0x00};
    assert_values(nd_image_decode(wide, sizeof wide), 0, 0x12, 0xff); /* v >> 8 */
}

ND_TEST(image, decode_from_memory_matches_reading_the_file) {
    size_t len;
    unsigned char *bytes = (unsigned char *)read_file(data_path("testcard.png"), &len);
    nd_tensor *a = nd_image_decode(bytes, len);
    free(bytes);
    assert_close(a, nd_image_read(data_path("testcard.png")), 0, 0);
}

ND_TEST(image, bad_files_give_messages) {
    cr_assert_null(nd_image_read("/nonexistent/picture.png"));
    assert_error("nd_image_read: cannot open '/nonexistent/picture.png': ");
    assert_error(strerror(ENOENT));

    size_t len;
    unsigned char *bytes = (unsigned char *)read_file(data_path("testcard.png"), &len);
    cr_assert_null(nd_image_decode(bytes, len / 2)); /* truncated PNG */
    assert_error("corrupt PNG");
    bytes[40] ^= 0x55; /* corrupt the pixels: a CRC error */
    cr_assert_null(nd_image_decode(bytes, len));
    assert_error("corrupt PNG");
    free(bytes);

    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    cr_assert_eq(nd_image_write(card, temp_path("jpg")), 0);
    bytes = (unsigned char *)read_file(temp_path("jpg"), &len);
    unlink(temp_path("jpg"));
    cr_assert(nd_image_decode(bytes, len));
    cr_assert_null(nd_image_decode(bytes, len / 2)); /* truncated JPEG */
    assert_error("corrupt JPEG");
    memset(bytes + 3, 0x00, 40); /* no markers where they must be */
    cr_assert_null(nd_image_decode(bytes, len));
    assert_error("corrupt JPEG");
    free(bytes);

    cr_assert_null(nd_image_decode("GIF89a......", 12));
    assert_error("not a PNG, JPEG or PGM/PPM");
    cr_assert_null(nd_image_decode("P6 2 2 255\n\1\2\3", 14));
    assert_error("truncated P6");
    cr_assert_null(nd_image_decode("P5 99999999999 2 255\n", 21));
    assert_error("corrupt P5 header");
    cr_assert_null(nd_image_decode("P2 2 1 10 3 11", 14));
    assert_error("above maxval");
    cr_assert_null(nd_image_decode(NULL, 3));
    assert_error("nd_image_decode");
    cr_assert_null(nd_image_read(NULL));
    assert_error("nd_image_read");
}

ND_TEST(image, bad_writes_give_messages) {
    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    cr_assert_eq(nd_image_write(card, "/tmp/picture.gif"), -1);
    assert_error("unsupported extension '.gif'");
    cr_assert_eq(nd_image_write(card, "/tmp/picture"), -1);
    assert_error("unsupported extension");
    cr_assert_eq(nd_image_write(card, "/nonexistent/dir/x.png"), -1);
    assert_error("cannot write '/nonexistent/dir/x.png'");
    cr_assert_eq(nd_image_write(card, temp_path("pgm")), -1);
    assert_error("holds 1 channel");
    cr_assert_eq(nd_image_write(nd_image_to_float(card), temp_path("png")), -1);
    assert_error("nd_image_from_float");
    cr_assert_eq(nd_image_write(nd_zeros(ND_U8, ND_SHAPE(2, 2, 5)), temp_path("png")), -1);
    assert_error("1, 2, 3 or 4 channels");
    cr_assert_eq(nd_image_write(nd_zeros(ND_U8, ND_SHAPE(2, 2, 4)), temp_path("jpg")), -1);
    assert_error("1 or 3 channels");
    cr_assert_eq(nd_image_write_jpeg(card, temp_path("jpg"), 0), -1);
    assert_error("quality");
    cr_assert_eq(nd_image_write(NULL, temp_path("png")), -1);
    assert_error("nd_image_write");
    cr_assert_eq(nd_image_write(card, NULL), -1);
    assert_error("NULL path");
    unlink(temp_path("png"));
    unlink(temp_path("jpg"));
    unlink(temp_path("pgm"));
}

ND_TEST(image, float_conversions) {
    uint8_t pixels[2 * 3 * 2] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255};
    nd_tensor *img = nd_from(ND_U8, ND_SHAPE(2, 3, 2), pixels);
    nd_tensor *f = nd_image_to_float(img);
    assert_shape(f, ND_SHAPE(2, 2, 3));
    cr_assert_eq(nd_type(f), ND_F32);
    assert_values(f, 1e-6, 0, 20 / 255., 40 / 255., 60 / 255., 80 / 255., 100 / 255., 10 / 255.,
                  30 / 255., 50 / 255., 70 / 255., 90 / 255., 1);
    assert_close(nd_image_from_float(f), img, 0, 0);
    /* clamping, rounding to nearest, NaN to 0 */
    nd_tensor *t = nd_parse("[[[-0.5, 0.5, 0.0019, 0.002, 1.5, nan]]]");
    assert_values(nd_image_from_float(t), 0, 0, 128, 0, 1, 255, 0);
    assert_shape(nd_image_from_float(nd_zeros(ND_F64, ND_SHAPE(4, 5))), ND_SHAPE(4, 5, 1));
    cr_assert_null(nd_image_to_float(nd_zeros(ND_F32, ND_SHAPE(2, 2, 3))));
    assert_error("expected an ND_U8 image");
    cr_assert_null(nd_image_from_float(nd_zeros(ND_U8, ND_SHAPE(2, 2, 3))));
    assert_error("floating-point image");
    cr_assert_null(nd_image_to_float(NULL));
}

ND_TEST(image, batches_and_videos) {
    nd_tensor *card = nd_image_read(data_path("testcard.png"));
    nd_tensor *frames[6];
    for (int i = 0; i < 6; i++) frames[i] = nd_slice(card, 1, i * 10, i * 10 + 100, 1);
    nd_tensor *batch = nd_image_batch(3, frames);
    assert_shape(batch, ND_SHAPE(3, 3, 240, 100));
    assert_close(nd_select(batch, 0, 2), nd_image_to_float(frames[2]), 0, 0);
    nd_tensor *video = nd_image_video(2, 3, frames);
    assert_shape(video, ND_SHAPE(2, 3, 3, 240, 100));
    assert_close(nd_select(nd_select(video, 0, 1), 0, 1), nd_image_to_float(frames[4]), 0, 0);
    cr_assert_null(nd_image_batch(2, (nd_tensor *[]){card, frames[0]}));
    cr_assert_null(nd_image_batch(0, frames));
    assert_error("nd_image_batch");
}

ND_TEST(image, affine_matrices_are_the_course_matrices) {
    assert_values(nd_affine_identity(), 0, 1, 0, 0, 0, 1, 0, 0, 0, 1);
    assert_values(nd_affine_translate(2, -3), 0, 1, 0, 2, 0, 1, -3, 0, 0, 1);
    assert_values(nd_affine_scale(2, 0.5), 0, 2, 0, 0, 0, 0.5, 0, 0, 0, 1);
    double c = cos(0.3), s = sin(0.3);
    assert_values(nd_affine_rotate(0.3), 1e-15, c, s, 0, -s, c, 0, 0, 0, 1);
    assert_values(nd_affine_shear(0.25, -1), 0, 1, 0.25, 0, -1, 1, 0, 0, 0, 1);
    cr_assert_eq(nd_type(nd_affine_rotate(1)), ND_F64);
    assert_shape(nd_affine_shear(0, 0), ND_SHAPE(3, 3));
    /* rotate_about = translate(c)·rotate·translate(−c); inverse by nd_inv */
    nd_tensor *about = nd_matmul(nd_affine_translate(10, 20),
                                 nd_matmul(nd_affine_rotate(0.7), nd_affine_translate(-10, -20)));
    assert_close(nd_affine_rotate_about(0.7, 10, 20), about, 1e-14, 1e-13);
    nd_tensor *m = nd_matmul(nd_affine_shear(0.2, 0.1), nd_affine_scale(2, 3));
    assert_close(nd_matmul(m, nd_inv(m)), nd_eye(3, ND_F64), 1e-14, 1e-14);
}
